// Package hubtest serves files the way the Hugging Face hub does, for tests
// of code that downloads models: the repo info API, resolve URLs with
// X-Repo-Commit, ETag, X-Linked-Etag and X-Linked-Size, redirects of large
// (LFS) files to a CDN on another host name, Range requests, and injectable
// faults (an interrupted transfer, corrupt content, a required token, a
// renamed repo, an outage).
//
// Use [New] to start a server for one repository and Close when done.
package hubtest
