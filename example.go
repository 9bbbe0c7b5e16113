// Package portvakt holds files of the repository that the binary ships:
// the commented example configuration that `portvakt config init` writes.
// The program itself is cmd/portvakt.
package portvakt

import _ "embed"

// ExampleConfig is portvakt.example.yaml: every configuration key at its
// default, each with a comment.
//
//go:embed portvakt.example.yaml
var ExampleConfig []byte
