// Package flite is the offline text-to-speech engine of ominix-api: CMU
// Flite (Debian's flite1-dev) behind pipeline.Synthesizer, with its five
// English voices (slt, kal, kal16, awb, rms) and OpenAI's voice names mapped
// onto them (see MapVoice).
//
// Use NewLoader for the TTS slot, New for a synthesizer built directly, and
// Available to ask whether the engine is compiled in. The cgo implementation
// is compiled only with the build tags "cgo" and "flite"; without them the
// package still builds and every constructor returns a KindUnavailable error
// naming the Debian package to install (flite1-dev). MapVoice, Voices and
// VoiceRate describe the voices in every build.
//
// Synthesize speaks one unit of text (a clause or sentence) and returns it
// at the voice's own rate: 8 kHz for kal, 16 kHz for the others. Speed maps
// to Flite's duration_stretch (1/speed). A cloned or custom voice gets
// speech.ErrNoVoiceCloning. Flite's internal errors, which would otherwise
// exit the process, come back as errors.
//
// Threading: Flite keeps process-wide state (its language tables, the
// registered voices). Loading touches none of it; Activate (or the first
// Synthesize) initializes Flite and registers the voices once per process,
// and every call into the library then runs on the pinned thread
// (pipeline.Thread). A process-wide mutex additionally keeps two threads
// from entering the library at once.
package flite
