// Package ws is ominix-api's WebSocket plumbing over github.com/coder/websocket:
// the upgrade checks every WebSocket route shares (a real upgrade request, an
// allowed Origin, a sub-protocol answer browsers accept) and bounded writes.
//
// Use Check before upgrading, to answer a bad request with an HTTP error
// of the caller's choosing (it returns a *pipeline.Error and writes
// nothing); use Accept to upgrade (it runs Check, then accepts with a read
// limit); use Send to write one text message within a timeout.
package ws
