package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/portvakt/portvakt"
)

// configInit writes the commented example configuration (every key at its
// default) to --out, never over an existing file; "-" writes to stdout.
func configInit(args []string, stdout, stderr io.Writer) int {
	set := newFlags("config init", stderr)
	out := set.String("out", "portvakt.yaml", "`file` to write (- for standard output); an existing file is kept")
	if err := set.Parse(args); err != nil {
		return 2
	}
	if *out == "-" {
		stdout.Write(portvakt.ExampleConfig)
		return 0
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		fmt.Fprintf(stderr, "portvakt: %s exists; it is kept as it is (choose another file with --out)\n", *out)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	if _, err := f.Write(portvakt.ExampleConfig); err != nil {
		f.Close()
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(stderr, "portvakt:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: every key at its default, with a comment; edit it, then: portvakt config check --config %s\n", *out, *out)
	return 0
}
