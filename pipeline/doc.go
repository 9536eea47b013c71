// Package pipeline is the heart of ominix-api: the typed events every session
// emits, the engine ports that model runtimes implement, the pinned-thread
// executor that runs all model work, the model slots (one per category), and
// the scheduler that interleaves small steps of many sessions on that thread.
//
// Use Thread to run model code on one OS thread; use Slots to load, switch and
// unload models; use Scheduler to admit work (chat, transcription, synthesis,
// images) and have its events delivered to a Sink. The package imports no
// HTTP and no cgo: transports sit above it and runtimes plug into its ports.
package pipeline
