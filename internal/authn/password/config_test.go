package password_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/portvakt/portvakt/internal/authn/password"
)

func TestConfig_ZeroValueIsNIST(t *testing.T) {
	var c password.Config
	if errs := c.Validate(); errs != nil {
		t.Errorf("Validate() = %v, want nil", errs)
	}
	if d := c.Deviations(); d != nil {
		t.Errorf("Deviations() = %q, want nil", d)
	}
	got := mustPolicy(t, c)
	want, _ := password.Preset("nist")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Policy() = %+v, want %+v", got, want)
	}
	h, err := c.Hasher()
	if err != nil {
		t.Fatal(err)
	}
	if h.Params() != password.DefaultArgon2Params() || h.Stats().Limit != int64(password.DefaultHashMemoryLimit(password.DefaultArgon2Params())) {
		t.Errorf("Hasher() = %+v, %+v; want the defaults", h.Params(), h.Stats())
	}
}

func TestConfig_Overrides(t *testing.T) {
	p := mustPolicy(t, password.Config{
		Preset: "visma", MinLength: 12, Require: []string{"none"}, Forbidden: "# ?", Alphabet: "printable-ascii",
		ForbiddenLetters: "Q", Blocklist: "off", ContextWords: "off", Normalize: "none", History: 3, MinScore: 2,
	})
	want := password.Policy{
		Name: "visma", MinLength: 12, MinLengthWithMFA: 8, MaxLength: 256, Forbidden: "#?", ForbiddenLetters: "Q",
		Alphabet: password.PrintableASCII, History: 3, MinScore: 2,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Policy() = %+v\nwant %+v", p, want)
	}
	// A lower min_length pulls the preset's MFA minimum down with it.
	if p := mustPolicy(t, password.Config{MinLength: 6}); p.MinLengthFor(true) != 6 {
		t.Errorf("min_length 6: MinLengthFor(true) = %d, want 6", p.MinLengthFor(true))
	}
	// ForbiddenLetters match either case.
	p = mustPolicy(t, password.Config{Preset: "visma", ForbiddenLetters: "q"})
	if got := keys(details(t, p.Check("QuizBox12!", password.Context{}))); !slices.Equal(got, []string{"password.letters_not_allowed"}) {
		t.Errorf("forbidden_letters q: Check(Quiz…) = %v", got)
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  password.Config
		path string // the one error expected
		msg  string // part of its message
	}{
		{"unknown preset", password.Config{Preset: "nsm"}, "preset", "nist, altinn, visma, udi"},
		{"negative minimum", password.Config{MinLength: -1}, "min_length", "at least 1"},
		{"MFA minimum above the minimum", password.Config{MinLength: 10, MinLengthWithMFA: 12}, "min_length_with_mfa", "must not exceed min_length (10)"},
		{"maximum below the minimum", password.Config{MaxLength: 10}, "max_length", "at least min_length (15)"},
		{"maximum above the cap", password.Config{MaxLength: 5000}, "max_length", "1024"},
		{"unknown class", password.Config{Require: []string{"upper", "emoji"}}, "require", `upper, lower, digit, special`},
		{"none among classes", password.Config{Require: []string{"none", "upper"}}, "require", `"none"`},
		{"special that cannot be met", password.Config{Preset: "visma", Alphabet: "letters-digits"}, "require", "special cannot be met"},
		{"a letter among forbidden characters", password.Config{Forbidden: "@ä"}, "forbidden", `"ä" is not an ASCII punctuation or symbol`},
		{"a digit among forbidden letters", password.Config{ForbiddenLetters: "æ1"}, "forbidden_letters", `"1" is not a letter`},
		{"unknown alphabet", password.Config{Alphabet: "ascii"}, "alphabet", "any, printable-ascii, latin, letters-digits"},
		{"unknown normalization", password.Config{Normalize: "nfc"}, "normalize", "nfkc or none"},
		{"blocklist not on or off", password.Config{Blocklist: "yes"}, "blocklist", "on or off"},
		{"context_words not on or off", password.Config{ContextWords: "true"}, "context_words", "on or off"},
		{"a blocklist file with the blocklist off", password.Config{Blocklist: "off", BlocklistFile: "x.txt"}, "blocklist_file", "blocklist is off"},
		{"a missing blocklist file", password.Config{BlocklistFile: "/nonexistent/blocklist.txt"}, "blocklist_file", "/nonexistent/blocklist.txt"},
		{"history too long", password.Config{History: 100}, "history", "between 0 and 24"},
		{"score above 4", password.Config{MinScore: 5}, "min_score", "between 0 and 4"},
		{"argon2 memory above 1 GiB", password.Config{Argon2: password.Argon2Config{Memory: 4 << 20}}, "argon2.memory_kib", "1048576"},
		{"argon2 memory below 8 per thread", password.Config{Argon2: password.Argon2Config{Memory: 16, Threads: 4}}, "argon2.memory_kib", "8×threads"},
		{"argon2 time above 100", password.Config{Argon2: password.Argon2Config{Time: 1000}}, "argon2.time", "between 1 and 100"},
		{"argon2 threads above 255", password.Config{Argon2: password.Argon2Config{Threads: 300}}, "argon2.threads", "between 1 and 255"},
		{"a pool smaller than one hash", password.Config{HashMemoryLimit: 8}, "hash_memory_limit_mib", "at least one hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.cfg.Validate()
			if len(errs) != 1 || errs[0].Path != tt.path || !strings.Contains(errs[0].Message, tt.msg) {
				t.Fatalf("Validate() = %v, want one error at %s containing %q", errs, tt.path, tt.msg)
			}
			if tt.path == "blocklist_file" && tt.cfg.Blocklist != "off" {
				return // Policy reads the file; the read error is tested elsewhere
			}
			if _, err := tt.cfg.Policy(); err == nil || !strings.Contains(err.Error(), "password."+tt.path) {
				t.Errorf("Policy() = %v, want an error naming password.%s", err, tt.path)
			}
		})
	}
	t.Run("every mistake at once", func(t *testing.T) {
		errs := password.Config{Preset: "x", MinScore: 9, Alphabet: "y", History: -1}.Validate()
		var paths []string
		for _, e := range errs {
			paths = append(paths, e.Path)
		}
		if !slices.Equal(paths, []string{"preset", "alphabet", "history", "min_score"}) {
			t.Errorf("Validate() paths = %v", paths)
		}
	})
}

func TestConfig_Deviations(t *testing.T) {
	tests := []struct {
		name string
		cfg  password.Config
		want []string // parts of the warnings, in order; nil for none
	}{
		{"nist has none", password.Config{Preset: "nist"}, nil},
		{"nist with history and a bigger hash has none", password.Config{History: 5, Argon2: password.Argon2Config{Memory: 65536}}, nil},
		{"altinn restricts the alphabet", password.Config{Preset: "altinn"}, []string{"alphabet (from preset altinn): letters-digits refuses spaces"}},
		{"visma has composition rules and a short minimum", password.Config{Preset: "visma"}, []string{
			"min_length (from preset visma): 8 is below the 15 characters",
			"require (from preset visma): upper, lower, digit, special is a composition rule",
		}},
		{"udi has composition rules and forbidden characters", password.Config{Preset: "udi"}, []string{
			"min_length (from preset udi)",
			"require (from preset udi): upper, lower, digit is a composition rule",
			"alphabet (from preset udi): latin refuses some Unicode",
			"forbidden (from preset udi): @ % &",
			"forbidden_letters (from preset udi): æ ø å",
		}},
		{"everything off", password.Config{
			MinLength: 6, MaxLength: 32, Normalize: "none", Blocklist: "off", ContextWords: "off", MinScore: 2,
			Argon2: password.Argon2Config{Memory: 4096, Time: 1},
		}, []string{
			"min_length: 6 is below",
			"min_length_with_mfa: 6 is below the 8 characters",
			"max_length: 32 is below the 64 characters",
			"normalize: none",
			"blocklist: off",
			"context_words: off",
			"min_score: 2",
			"argon2: m=4096 KiB, t=1 is weaker",
		}},
		{"an invalid config gives none", password.Config{Preset: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.Deviations()
			if len(got) != len(tt.want) {
				t.Fatalf("Deviations() = %q, want %d warnings like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) && !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("Deviations()[%d] = %q, want it to contain %q", i, got[i], tt.want[i])
				}
				if !strings.Contains(got[i], "NIST SP 800-63B-4") && !strings.Contains(got[i], "OWASP") {
					t.Errorf("Deviations()[%d] = %q names no source", i, got[i])
				}
			}
		})
	}
}

// TestConfig_YAML decodes the example from the package documentation, so
// the keys there are the keys that work.
func TestConfig_YAML(t *testing.T) {
	blocklist := filepath.Join(t.TempDir(), "blocklist.txt")
	if err := os.WriteFile(blocklist, []byte("hemmelig-passord\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
preset: udi
min_length: 10
min_length_with_mfa: 8
max_length: 128
require: [upper, digit]
forbidden: "@ % &"
forbidden_letters: "æ ø å"
alphabet: latin
normalize: nfkc
blocklist: "on"
blocklist_file: ` + blocklist + `
context_words: "on"
history: 5
min_score: 3
argon2: {memory_kib: 19456, time: 2, threads: 1}
hash_memory_limit_mib: 128
`
	var c password.Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if errs := c.Validate(); errs != nil {
		t.Fatalf("Validate() = %v", errs)
	}
	p := mustPolicy(t, c)
	if p.MinLength != 10 || p.MaxLength != 128 || !slices.Equal(p.Require, []password.Class{password.Upper, password.Digit}) ||
		p.Forbidden != "@%&" || p.ForbiddenLetters != "æøå" || p.History != 5 || p.MinScore != 3 {
		t.Errorf("Policy() = %+v", p)
	}
	if c.Argon2Params() != (password.Argon2Params{Memory: 19456, Time: 2, Threads: 1}) || c.HashMemoryLimitBytes() != 128<<20 {
		t.Errorf("Argon2Params() = %+v, HashMemoryLimitBytes() = %d", c.Argon2Params(), c.HashMemoryLimitBytes())
	}
}

// TestConfig_FieldsSuitTheLoader checks that every field is a scalar or a
// string list with a yaml tag, which is what the config loader can map
// PORTVAKT_PASSWORD_… variables onto.
func TestConfig_FieldsSuitTheLoader(t *testing.T) {
	var check func(typ reflect.Type, prefix string)
	check = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				t.Errorf("%s%s has no yaml tag", prefix, f.Name)
				continue
			}
			switch f.Type.Kind() {
			case reflect.String, reflect.Int, reflect.Bool:
			case reflect.Slice:
				if f.Type.Elem().Kind() != reflect.String {
					t.Errorf("%s%s is %s, want []string", prefix, tag, f.Type)
				}
			case reflect.Struct:
				check(f.Type, prefix+tag+".")
			default:
				t.Errorf("%s%s is %s, which the loader cannot set", prefix, tag, f.Type)
			}
		}
	}
	check(reflect.TypeFor[password.Config](), "")
}
