// Package flite is the offline text-to-speech engine of ominix-api: CMU
// Flite (Debian's flite1-dev) behind pipeline.Synthesizer, with its five US
// English voices (slt, kal, kal16, awb, rms) and OpenAI's voice names mapped
// onto them.
//
// Use NewLoader for the TTS slot, New for a synthesizer built directly, and
// Available to ask whether the engine is compiled in. The cgo implementation
// is compiled only with the build tags "cgo" and "flite"; without them the
// package still builds and every constructor returns a KindUnavailable error
// naming the Debian package to install (flite1-dev). MapVoice and Voices
// describe the voice mapping in every build.
//
// Threading: Flite keeps process-wide state (its language tables, the
// registered voices). Loading touches none of it; Activate (or the first
// Synthesize) initializes Flite and registers the voices once per process,
// and every call into the library then runs on the pinned thread
// (pipeline.Thread). A process-wide mutex additionally keeps two threads
// from entering the library at once.
package flite
