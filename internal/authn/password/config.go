package password

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode"
)

// Config is the password section of the configuration file ("password:"
// in the app config). Every field's zero value means "the preset's value",
// so an empty Config is the nist preset with the default hashing
// parameters. Only scalars and string lists appear, so every key has a
// PORTVAKT_PASSWORD_… environment variable (lists comma-separated).
type Config struct {
	// Preset is nist (the default), altinn, visma or udi.
	Preset string `yaml:"preset"`
	// MinLength is the minimum length, in characters (Unicode code points
	// after normalization), of a password that is the only factor.
	MinLength int `yaml:"min_length"`
	// MinLengthWithMFA is the minimum when the account has a second factor.
	MinLengthWithMFA int `yaml:"min_length_with_mfa"`
	// MaxLength is the maximum length, at most 1024.
	MaxLength int `yaml:"max_length"`
	// Require lists character classes of which one must appear: upper,
	// lower, digit, special. [none] removes the preset's list.
	Require []string `yaml:"require"`
	// Forbidden lists ASCII punctuation and symbol characters that may not
	// appear, such as "@ % &" (spaces between them are ignored). "none"
	// removes the preset's set.
	Forbidden string `yaml:"forbidden"`
	// ForbiddenLetters lists letters that may not appear in either case,
	// such as "æ ø å" (spaces ignored). "none" removes the preset's set.
	ForbiddenLetters string `yaml:"forbidden_letters"`
	// Alphabet is any, printable-ascii, latin or letters-digits (see the
	// Alphabet constants).
	Alphabet string `yaml:"alphabet"`
	// Normalize is nfkc or none.
	Normalize string `yaml:"normalize"`
	// Blocklist is on or off: the common passwords embedded from zxcvbn plus
	// BlocklistFile.
	Blocklist string `yaml:"blocklist"`
	// BlocklistFile is the operator's list: one password per line, UTF-8,
	// compared whole and regardless of case. It is read into memory when
	// the policy is built.
	BlocklistFile string `yaml:"blocklist_file"`
	// ContextWords is on or off: refuse passwords built on the user's email
	// address, username or name, or on the service name.
	ContextWords string `yaml:"context_words"`
	// History is how many previous passwords may not be reused (0–24).
	History int `yaml:"history"`
	// MinScore is the minimum zxcvbn score, 0–4.
	MinScore int `yaml:"min_score"`
	// Argon2 holds the hashing parameters for new hashes.
	Argon2 Argon2Config `yaml:"argon2"`
	// HashMemoryLimit is the most memory, in MiB, that password hashing may
	// use at once (default: one hash per core, cores × m).
	HashMemoryLimit int `yaml:"hash_memory_limit_mib"`
}

// Argon2Config holds Argon2id's cost parameters; zero means the default.
type Argon2Config struct {
	// Memory is m, in KiB (default 19456 = 19 MiB).
	Memory int `yaml:"memory_kib"`
	// Time is t, the number of passes (default 2).
	Time int `yaml:"time"`
	// Threads is p, the lanes (default 1).
	Threads int `yaml:"threads"`
}

// FieldError is one configuration mistake. Path is relative to the
// password section ("min_length", "argon2.time"); prefix it with
// "password." when reporting.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) String() string { return e.Path + ": " + e.Message }

// MaxMaxLength is the highest max_length accepted.
const MaxMaxLength = 1024

// MaxHistory is the highest history accepted: checking it costs one hash
// verification per remembered password.
const MaxHistory = 24

const none = "none"

// Validate returns every mistake in c, or nil. Messages name the allowed
// values.
func (c Config) Validate() []FieldError {
	_, errs := c.merge()
	if c.BlocklistFile != "" && c.Blocklist != "off" {
		if fi, err := os.Stat(c.BlocklistFile); err != nil {
			errs = append(errs, FieldError{"blocklist_file", fmt.Sprintf("cannot read %s: %v", c.BlocklistFile, unwrapPath(err))})
		} else if fi.IsDir() {
			errs = append(errs, FieldError{"blocklist_file", fmt.Sprintf("%s is a directory; want a file with one password per line", c.BlocklistFile)})
		}
	}
	return errs
}

// Policy returns the effective policy: the preset with c's fields laid
// over it, and the operator's blocklist read from BlocklistFile. Invalid
// settings and an unreadable blocklist file are errors naming the key and
// the path.
func (c Config) Policy() (Policy, error) {
	p, errs := c.merge()
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = "password." + e.String()
		}
		return Policy{}, errors.New(strings.Join(msgs, "\n"))
	}
	if c.BlocklistFile != "" && p.Blocklist {
		set, err := loadBlocklist(c.BlocklistFile, p.Normalize)
		if err != nil {
			return Policy{}, fmt.Errorf("password.blocklist_file: %w", err)
		}
		p.extra = set
	}
	return p, nil
}

// Argon2Params returns the hashing parameters (zero fields take the
// defaults in NewHasher).
func (c Config) Argon2Params() Argon2Params {
	clamp := func(v, hi int) int { return max(0, min(v, hi)) }
	return Argon2Params{
		Memory:  uint32(clamp(c.Argon2.Memory, MaxArgon2Memory)),
		Time:    uint32(clamp(c.Argon2.Time, MaxArgon2Time)),
		Threads: uint8(clamp(c.Argon2.Threads, MaxArgon2Threads)),
	}
}

// HashMemoryLimitBytes returns HashMemoryLimit in bytes, 0 for the default.
func (c Config) HashMemoryLimitBytes() uint64 {
	return uint64(max(c.HashMemoryLimit, 0)) << 20
}

// Hasher returns a Hasher with c's parameters and memory limit.
func (c Config) Hasher() (*Hasher, error) {
	return NewHasher(c.Argon2Params(), c.HashMemoryLimitBytes())
}

// merge lays c over its preset and returns the result and every mistake.
func (c Config) merge() (Policy, []FieldError) {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	p, err := Preset(c.Preset)
	if err != nil {
		add("preset", "must be one of %s, but is %q", strings.Join(Presets(), ", "), c.Preset)
		p, _ = Preset("nist")
	}

	if c.MinLength < 0 {
		add("min_length", "must be at least 1, but is %d", c.MinLength)
	} else if c.MinLength > 0 {
		p.MinLength = c.MinLength
		if c.MinLengthWithMFA == 0 {
			p.MinLengthWithMFA = min(p.MinLengthWithMFA, c.MinLength)
		}
	}
	if c.MinLengthWithMFA < 0 {
		add("min_length_with_mfa", "must be at least 1, but is %d", c.MinLengthWithMFA)
	} else if c.MinLengthWithMFA > 0 {
		p.MinLengthWithMFA = c.MinLengthWithMFA
		if p.MinLengthWithMFA > p.MinLength {
			add("min_length_with_mfa", "must not exceed min_length (%d), but is %d", p.MinLength, p.MinLengthWithMFA)
		}
	}
	if c.MaxLength < 0 || c.MaxLength > MaxMaxLength {
		add("max_length", "must be between min_length and %d, but is %d", MaxMaxLength, c.MaxLength)
	} else if c.MaxLength > 0 {
		p.MaxLength = c.MaxLength
		if p.MaxLength < p.MinLength {
			add("max_length", "must be at least min_length (%d), but is %d", p.MinLength, p.MaxLength)
		}
	}

	if len(c.Require) > 0 {
		p.Require = nil
		for _, r := range c.Require {
			switch {
			case r == none && len(c.Require) == 1:
			case slices.Contains(classes, Class(r)):
				if !slices.Contains(p.Require, Class(r)) {
					p.Require = append(p.Require, Class(r))
				}
			default:
				add("require", "each entry must be one of upper, lower, digit, special (or the list [none]), but one is %q", r)
			}
		}
	}
	if c.Alphabet != "" {
		if slices.Contains(alphabets, Alphabet(c.Alphabet)) {
			p.Alphabet = Alphabet(c.Alphabet)
		} else {
			add("alphabet", "must be one of any, printable-ascii, latin, letters-digits, but is %q", c.Alphabet)
		}
	}
	switch c.Forbidden {
	case "":
	case none:
		p.Forbidden = ""
	default:
		var set []rune
		for _, r := range c.Forbidden {
			switch {
			case r == ' ':
			case r > unicode.MaxASCII || !(unicode.IsPunct(r) || unicode.IsSymbol(r)):
				add("forbidden", "%q is not an ASCII punctuation or symbol character; list letters in forbidden_letters, and spaces cannot be forbidden", string(r))
			case !slices.Contains(set, r):
				set = append(set, r)
			}
		}
		p.Forbidden = string(set)
	}
	switch c.ForbiddenLetters {
	case "":
	case none:
		p.ForbiddenLetters = ""
	default:
		var set []rune
		for _, r := range c.ForbiddenLetters {
			switch {
			case r == ' ':
			case !unicode.IsLetter(r):
				add("forbidden_letters", "%q is not a letter; list other characters in forbidden", string(r))
			case !slices.Contains(set, r):
				set = append(set, r)
			}
		}
		p.ForbiddenLetters = string(set)
	}
	onOff := func(path, v string, dst *bool) {
		switch v {
		case "":
		case "on":
			*dst = true
		case "off":
			*dst = false
		default:
			add(path, "must be on or off, but is %q", v)
		}
	}
	switch c.Normalize {
	case "":
	case "nfkc":
		p.Normalize = true
	case none:
		p.Normalize = false
	default:
		add("normalize", "must be nfkc or none, but is %q", c.Normalize)
	}
	onOff("blocklist", c.Blocklist, &p.Blocklist)
	onOff("context_words", c.ContextWords, &p.ContextWords)
	if c.BlocklistFile != "" && c.Blocklist == "off" {
		add("blocklist_file", "is set but blocklist is off; remove one of them")
	}
	if c.History < 0 || c.History > MaxHistory {
		add("history", "must be between 0 and %d, but is %d", MaxHistory, c.History)
	} else if c.History > 0 {
		p.History = c.History
	}
	if c.MinScore < 0 || c.MinScore > 4 {
		add("min_score", "must be a zxcvbn score between 0 and 4, but is %d", c.MinScore)
	} else if c.MinScore > 0 {
		p.MinScore = c.MinScore
	}
	if slices.Contains(p.Require, Special) && p.specialExamples() == "" {
		add("require", "special cannot be met: alphabet %s and forbidden %q leave no special character", p.Alphabet, p.Forbidden)
	}

	a := c.Argon2
	if a.Memory < 0 || a.Memory > MaxArgon2Memory || (a.Memory > 0 && a.Memory < 8*max(a.Threads, 1)) {
		add("argon2.memory_kib", "must be between 8×threads and %d KiB (1 GiB), but is %d", MaxArgon2Memory, a.Memory)
	}
	if a.Time < 0 || a.Time > MaxArgon2Time {
		add("argon2.time", "must be between 1 and %d, but is %d", MaxArgon2Time, a.Time)
	}
	if a.Threads < 0 || a.Threads > MaxArgon2Threads {
		add("argon2.threads", "must be between 1 and %d, but is %d", MaxArgon2Threads, a.Threads)
	}
	memKiB := int64(c.Argon2Params().Memory)
	if memKiB == 0 {
		memKiB = int64(DefaultArgon2Params().Memory)
	}
	if c.HashMemoryLimit < 0 {
		add("hash_memory_limit_mib", "must be at least 1 MiB, but is %d", c.HashMemoryLimit)
	} else if c.HashMemoryLimit > 0 && int64(c.HashMemoryLimit)<<10 < memKiB {
		add("hash_memory_limit_mib", "must hold at least one hash of argon2.memory_kib=%d KiB (%d MiB), but is %d", memKiB, (memKiB+1023)>>10, c.HashMemoryLimit)
	}
	return p, errs
}

// Deviations returns a warning for every way the effective policy departs
// from NIST SP 800-63B-4 §3.1.1.2 (and, for hashing, from the ASVS 11.4.2
// Argon2id floor), each as "key: explanation" with the key relative to the
// password section. It returns nil for an invalid config (Validate reports
// that) and for the nist preset.
func (c Config) Deviations() []string {
	p, errs := c.merge()
	if len(errs) > 0 {
		return nil
	}
	var out []string
	// from names where a value came from when the operator did not set it.
	from := func(set bool) string {
		if set {
			return ""
		}
		return " (from preset " + p.Name + ")"
	}
	warn := func(key string, set bool, format string, args ...any) {
		out = append(out, key+from(set)+": "+fmt.Sprintf(format, args...))
	}
	if p.MinLength < 15 {
		warn("min_length", c.MinLength != 0, "%d is below the 15 characters NIST SP 800-63B-4 requires (SHALL) of a password used as the only factor", p.MinLength)
	}
	if mfa := p.MinLengthFor(true); mfa < 8 {
		warn("min_length_with_mfa", c.MinLengthWithMFA != 0 || c.MinLength != 0, "%d is below the 8 characters NIST SP 800-63B-4 requires (SHALL) of any password", mfa)
	}
	if p.MaxLength > 0 && p.MaxLength < 64 {
		warn("max_length", c.MaxLength != 0, "%d is below the 64 characters NIST SP 800-63B-4 says verifiers SHOULD permit", p.MaxLength)
	}
	if len(p.Require) > 0 {
		names := make([]string, len(p.Require))
		for i, r := range p.Require {
			names[i] = string(r)
		}
		warn("require", len(c.Require) > 0, "%s is a composition rule, and NIST SP 800-63B-4 says verifiers SHALL NOT impose composition rules such as mixtures of character types", strings.Join(names, ", "))
	}
	switch p.Alphabet {
	case PrintableASCII, Latin:
		warn("alphabet", c.Alphabet != "", "%s refuses some Unicode characters; NIST SP 800-63B-4 says verifiers SHOULD accept Unicode, each code point counting as one character", p.Alphabet)
	case LettersDigits:
		warn("alphabet", c.Alphabet != "", "%s refuses spaces, punctuation and symbols; NIST SP 800-63B-4 says verifiers SHOULD accept all printing ASCII characters and the space (and Unicode), and password managers generate symbols", p.Alphabet)
	}
	if p.Forbidden != "" {
		warn("forbidden", c.Forbidden != "", "%s: NIST SP 800-63B-4 says verifiers SHOULD accept all printing ASCII characters; a forbidden character usually hides unsafe string handling downstream, which is the thing to fix", spaced(p.Forbidden))
	}
	if p.ForbiddenLetters != "" {
		warn("forbidden_letters", c.ForbiddenLetters != "", "%s: NIST SP 800-63B-4 says verifiers SHOULD accept Unicode characters", spaced(p.ForbiddenLetters))
	}
	if !p.Normalize {
		warn("normalize", c.Normalize != "", "none: NIST SP 800-63B-4 says Unicode passwords SHOULD be normalized (NFKC or NFKD) before hashing, or the same password typed on two keyboards may not match")
	}
	if !p.Blocklist {
		warn("blocklist", c.Blocklist != "", "off: NIST SP 800-63B-4 says verifiers SHALL compare new passwords against a blocklist of commonly used, expected or compromised values")
	}
	if !p.ContextWords {
		warn("context_words", c.ContextWords != "", "off: NIST SP 800-63B-4 says the blocklist SHALL include context-specific words such as the service name and the username")
	}
	if p.MinScore > 0 {
		warn("min_score", c.MinScore != 0, "%d: refusing passwords by a zxcvbn estimate is not in NIST SP 800-63B-4, which asks for a blocklist and suggests strength meters as guidance; it may refuse long passphrases NIST accepts", p.MinScore)
	}
	ap := c.Argon2Params()
	if ap.Memory == 0 {
		ap.Memory = DefaultArgon2Params().Memory
	}
	if ap.Time == 0 {
		ap.Time = DefaultArgon2Params().Time
	}
	if !owaspArgon2(ap.Memory, ap.Time) {
		warn("argon2", true, "m=%d KiB, t=%d is weaker than every Argon2id setting of the OWASP Password Storage Cheat Sheet (46 MiB with t=1, 19 MiB with t=2, 12 MiB with t=3, 9 MiB with t=4, 7 MiB with t=5), the floor ASVS 11.4.2 refers to", ap.Memory, ap.Time)
	}
	return out
}

// owaspArgon2 reports whether m KiB and t passes reach one of the OWASP
// Password Storage Cheat Sheet's equivalent Argon2id settings.
func owaspArgon2(m, t uint32) bool {
	for _, s := range []struct{ m, t uint32 }{{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5}} {
		if m >= s.m && t >= s.t {
			return true
		}
	}
	return false
}

// unwrapPath drops the path from an *os.PathError message, which the
// caller already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
