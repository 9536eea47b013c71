// Package oapitest validates JSON against the schemas of OpenAI's OpenAPI
// description, for tests of the wire formats.
//
// Use Load in a test to get the compiled spec (the test is skipped when the
// spec is not on disk: it lives outside the repository, in
// ../shared/openai/openapi.json next to the repository root, or wherever
// $OMINIX_OPENAPI points); use Spec.Validate to check a value against
// #/components/schemas/<Name>, and Spec.ValidateStrict to also reject
// members the schema does not name (after removing documented extension
// members such as reasoning_content).
//
// OpenAPI 3.0 constructs in the spec are converted for a JSON Schema 2020-12
// validator: "nullable": true admits null (in "type" and "enum", or through
// an anyOf when the schema has no type), and formats such as "unixtime" are
// annotations only. The spec is parsed once per test binary.
package oapitest
