// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the raw little-endian data.
//
// Use Open to memory-map one file and get its tensors as read-only mx.Array
// views without copying; OpenModel to open a model directory, sharded
// through model.safetensors.index.json or a single model.safetensors; Load to
// read a file already in memory; ParseHeader to check a header alone; Write
// and WriteFile to produce files (tests and benchmark fixtures).
//
// Every header is validated before any tensor is used: a header length
// larger than the file or than MaxHeaderSize, malformed or truncated JSON,
// duplicate names, unknown dtypes, negative or overflowing shapes, and byte
// ranges that are out of bounds, overlap or disagree with shape×dtype size
// all return errors; nothing is allocated in proportion to a declared size.
//
// Lifetime: arrays returned by a File or Model point into its mapping and
// must not be used after Close, which unmaps it. A File or Model is safe for
// concurrent reads; Close must not race with them.
package safetensors
