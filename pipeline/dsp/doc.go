// Package dsp does the signal processing that transports and engines share,
// in pure Go with no I/O: sample-rate conversion, PCM and G.711 sample
// formats, and voice activity detection.
//
// Use Resample to convert a whole signal and NewResampler to convert a
// realtime stream chunk by chunk (the output is identical); use AppendS16LE,
// AppendMuLaw and AppendALaw to turn audio/pcm, audio/pcmu and audio/pcma
// bytes into float32 samples (and the AppendFloat32As… functions for the
// way back); use NewVAD to find speech turns with OpenAI Realtime's
// server_vad parameters (threshold, prefix_padding_ms, silence_duration_ms)
// and get each utterance's audio.
//
// Samples are mono float32 in [-1, 1]. Nothing here is safe for concurrent
// use except the package-level functions.
package dsp
