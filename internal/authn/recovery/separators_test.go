package recovery_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/authn/recovery"
)

// Every separator compact drops is dropped on its own, wherever it stands
// in the list of them: pasted codes carry invisible characters and typed
// ones carry whatever dash the keyboard makes.
func TestNormalize_EachSeparator(t *testing.T) {
	const code = "k7q4-9xm2-pd3f-h8wa"
	for _, sep := range []struct{ name, r string }{
		{"hyphen-minus", "-"},
		{"minus sign", "\u2212"},
		{"zero-width space", "\u200b"},
		{"zero-width non-joiner", "\u200c"},
		{"zero-width joiner", "\u200d"},
		{"word joiner", "\u2060"},
		{"byte-order mark", "\ufeff"},
		{"space", " "},
		{"em dash", "\u2014"},
	} {
		typed := "k7q4" + sep.r + "9xm2" + sep.r + "pd3f" + sep.r + "h8wa"
		if got := recovery.Normalize(typed); got != code {
			t.Errorf("Normalize with a %s = %q, want %q", sep.name, got, code)
		}
		if !recovery.Valid(typed) {
			t.Errorf("Valid(code with a %s) = false", sep.name)
		}
	}
}

// The full-width block maps onto ASCII from its first character to its
// last, and no further.
func TestNormalize_FullWidthBounds(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\uff01", "!"},      // the first full-width character
		{"\uff5e", "~"},      // the last
		{"\uff00", "\uff00"}, // just before the block
		{"\uff5f", "\uff5f"}, // just after it
	}
	for _, tt := range tests {
		if got := recovery.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
