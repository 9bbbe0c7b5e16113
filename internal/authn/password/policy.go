package password

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/text/unicode/norm"

	"github.com/portvakt/portvakt/internal/problem"
)

// Class is a character class a policy may require at least one of.
type Class string

// The character classes. They are tested on the normalized password, and
// only characters the policy allows count towards them.
const (
	Upper   Class = "upper"   // an upper-case or title-case letter of any script (unicode.IsUpper, IsTitle)
	Lower   Class = "lower"   // a lower-case letter of any script (unicode.IsLower)
	Digit   Class = "digit"   // a decimal digit of any script (unicode.IsDigit)
	Special Class = "special" // punctuation or a symbol (unicode.IsPunct, IsSymbol); a space is not special
)

var classes = []Class{Upper, Lower, Digit, Special}

// Alphabet names the characters a policy accepts. Control characters
// (Unicode category Cc: tab, line breaks, NUL, …) and invalid UTF-8 are
// refused under every alphabet.
type Alphabet string

// The alphabets.
const (
	// AnyChars accepts every Unicode character except control characters.
	AnyChars Alphabet = "any"
	// PrintableASCII accepts the 95 printing ASCII characters U+0020–U+007E:
	// space, A–Z, a–z, 0–9 and ! " # $ % & ' ( ) * + , - . / : ; < = > ? @
	// [ \ ] ^ _ ` { | } ~.
	PrintableASCII Alphabet = "printable-ascii"
	// Latin accepts printable ASCII, letters of the Latin script (é, ü, ß,
	// æ, ø, å, …: unicode.Latin) and the combining diacritical marks
	// U+0300–U+036F. Letters of other scripts (Cyrillic, Greek, Arabic, CJK,
	// …), non-ASCII digits and non-ASCII symbols (€, §, emoji) are refused.
	Latin Alphabet = "latin"
	// LettersDigits accepts letters and digits of any script and combining
	// marks; spaces, punctuation and symbols are refused.
	LettersDigits Alphabet = "letters-digits"
)

var alphabets = []Alphabet{AnyChars, PrintableASCII, Latin, LettersDigits}

// allows reports whether the alphabet accepts r, which is not a control
// character.
func (a Alphabet) allows(r rune) bool {
	switch a {
	case PrintableASCII:
		return r >= 0x20 && r <= 0x7e
	case Latin:
		return (r >= 0x20 && r <= 0x7e) ||
			(unicode.IsLetter(r) && unicode.Is(unicode.Latin, r)) ||
			(r >= 0x300 && r <= 0x36f)
	case LettersDigits:
		return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
	default:
		return true
	}
}

// ref returns the message key describing what the alphabet accepts, used
// as the "allowed" argument of password.chars_not_allowed.
func (a Alphabet) ref() problem.Ref {
	switch a {
	case PrintableASCII:
		return problem.Ref("password.alphabet.printable_ascii")
	case Latin:
		return problem.Ref("password.alphabet.latin")
	case LettersDigits:
		return problem.Ref("password.alphabet.letters_digits")
	}
	return ""
}

// scoreRunes is how much of a password zxcvbn looks at. Its matcher is
// superlinear (256 characters take half a second, 1024 take twenty), so a
// longer password is scored on its first scoreRunes characters only.
const scoreRunes = 64

// Policy is a set of effective password rules. Build one with Preset or
// Config.Policy; a literal works too, and then its zero fields mean "no
// rule" (no minimum, any alphabet, no blocklist, no normalization).
//
// A Policy is a value and is safe for concurrent use; Check does not
// modify it.
type Policy struct {
	// Name is the preset the policy was built from ("nist", "udi", …).
	Name string
	// MinLength is the minimum length in code points after normalization
	// when the password is the only factor.
	MinLength int
	// MinLengthWithMFA is the minimum when the account has a second factor
	// (Context.HasMFA). Zero, or a value above MinLength, means MinLength.
	MinLengthWithMFA int
	// MaxLength is the maximum length in code points; 0 means no maximum.
	MaxLength int
	// Require lists the character classes of which at least one character
	// must appear.
	Require []Class
	// Forbidden holds characters that may not appear, such as "@%&".
	Forbidden string
	// ForbiddenLetters holds letters that may not appear, such as "æøå".
	// They are matched regardless of case: "æ" forbids "Æ" as well.
	ForbiddenLetters string
	// Alphabet is the set of accepted characters; "" means AnyChars.
	Alphabet Alphabet
	// Normalize applies Unicode NFKC before checking and hashing (see
	// Prepare).
	Normalize bool
	// Blocklist refuses passwords on the list embedded from zxcvbn and on
	// the operator's list (Config.BlocklistFile).
	Blocklist bool
	// ContextWords refuses passwords built on the user's email address,
	// username or name or on the service name.
	ContextWords bool
	// History is how many previous passwords may not be reused; Check asks
	// Context.Reused. 0 turns the rule off.
	History int
	// MinScore is the minimum zxcvbn score (0–4); 0 turns the rule off.
	MinScore int

	// extra is the operator's blocklist: lower-cased, normalized entries.
	extra map[string]struct{}
}

// Context is what Check knows about the account and the service.
type Context struct {
	// Field is the form field the details belong to; "" means "password".
	Field string
	// Email, Username and Name are the account's, when known; they feed the
	// context-word rule and the zxcvbn estimate.
	Email, Username, Name string
	// ServiceName is the service's display name (config service_name).
	ServiceName string
	// HasMFA says the account has a second factor, so MinLengthWithMFA
	// applies.
	HasMFA bool
	// Reused reports whether the prepared password matches one of the
	// account's last Policy.History passwords. The caller supplies it,
	// typically by verifying against stored hashes with a Hasher, which
	// costs one hash per stored password. nil skips the history rule.
	Reused func(pw string) bool
}

// Rule is one requirement to show before the user types, as a message key
// with arguments in the same catalogs as the problems.
type Rule struct {
	Key  string
	Args problem.Args
}

var presets = map[string]Policy{
	// NIST SP 800-63B-4 §3.1.1.2: 15 characters as the only factor, 8 with
	// MFA, at least 64 allowed (256 caps the cost of a check), any Unicode
	// normalized with NFKC, a blocklist with context words, no composition
	// rules.
	"nist": {
		Name: "nist", MinLength: 15, MinLengthWithMFA: 8, MaxLength: 256,
		Alphabet: AnyChars, Normalize: true, Blocklist: true, ContextWords: true,
	},
	// Altinn (seed 000): "Altinn godtar ikke spesialtegn … kun bokstaver og
	// tall". Otherwise as nist.
	"altinn": {
		Name: "altinn", MinLength: 15, MinLengthWithMFA: 8, MaxLength: 256,
		Alphabet: LettersDigits, Normalize: true, Blocklist: true, ContextWords: true,
	},
	// Visma Connect (seed 002): at least 8 characters, one upper, one lower,
	// one digit and one special character.
	"visma": {
		Name: "visma", MinLength: 8, MinLengthWithMFA: 8, MaxLength: 256,
		Require:  []Class{Upper, Lower, Digit, Special},
		Alphabet: AnyChars, Normalize: true, Blocklist: true, ContextWords: true,
	},
	// UDI Min side (seed 003): at least 8 characters, one upper, one lower,
	// one digit; no @ % &, no æ ø å, no letters outside the Latin alphabet.
	"udi": {
		Name: "udi", MinLength: 8, MinLengthWithMFA: 8, MaxLength: 256,
		Require:   []Class{Upper, Lower, Digit},
		Forbidden: "@%&", ForbiddenLetters: "æøå",
		Alphabet: Latin, Normalize: true, Blocklist: true, ContextWords: true,
	},
}

// Presets returns the preset names, the default ("nist") first.
func Presets() []string { return []string{"nist", "altinn", "visma", "udi"} }

// Preset returns the named policy; "" means "nist". An unknown name is an
// error that lists the known ones.
func Preset(name string) (Policy, error) {
	if name == "" {
		name = "nist"
	}
	p, ok := presets[name]
	if !ok {
		return Policy{}, fmt.Errorf("unknown password preset %q (known: %s)", name, strings.Join(Presets(), ", "))
	}
	p.Require = slices.Clone(p.Require)
	return p, nil
}

// MinLengthFor returns the minimum length that applies to an account with
// or without a second factor.
func (p Policy) MinLengthFor(hasMFA bool) int {
	if hasMFA && p.MinLengthWithMFA > 0 && p.MinLengthWithMFA < p.MinLength {
		return p.MinLengthWithMFA
	}
	return p.MinLength
}

// Prepare returns the password as it is checked and hashed: NFKC-normalized
// when the policy says so (NIST SP 800-63B-4 §3.1.1.2), so that "é" typed
// as one code point or as "e" plus a combining accent, or "Ａ" typed on a
// full-width keyboard, is the same password. Call it before Hasher.Hash and
// Hasher.Verify; Check calls it itself. NFKC is idempotent.
//
// A password longer than MaxBytes is returned as it is, without the
// normalisation's cost: it can never be set (Check refuses it before
// normalising) and so never matches.
func (p Policy) Prepare(pw string) string {
	if p.TooLong(pw) {
		return pw
	}
	if p.Normalize {
		return norm.NFKC.String(pw)
	}
	return pw
}

// maxBytesWithoutLimit bounds a password's bytes when the policy sets no
// MaxLength.
const maxBytesWithoutLimit = 4096

// MaxBytes is the most bytes a password may have as typed: four per code
// point of MaxLength (UTF-8's widest), or 4096 without a MaxLength. It is
// checked before anything else, so a megabyte typed into a password field
// costs neither normalisation nor a hash (issue 10, finding 2).
func (p Policy) MaxBytes() int {
	if p.MaxLength > 0 {
		return 4 * p.MaxLength
	}
	return maxBytesWithoutLimit
}

// TooLong reports whether pw has more than MaxBytes bytes: such a password
// is refused (Check) or is simply wrong (sign-in), before normalisation or
// hashing.
func (p Policy) TooLong(pw string) bool { return len(pw) > p.MaxBytes() }

// Check tests pw against every rule and returns nil, or a *problem.Problem
// of kind Invalid with one detail per broken rule, all on Context.Field.
// An empty password gives the single detail password.required.
//
// The details come in this order: length (password.too_short,
// password.too_long), characters (password.control_char,
// password.chars_not_allowed, password.no_spaces, password.forbidden_char,
// password.letters_not_allowed), classes (password.need_upper,
// password.need_lower, password.need_digit, password.need_special),
// password.blocklisted or else one of password.pattern.repeated_char,
// password.pattern.repeated and password.pattern.sequence,
// password.contains_context (once per kind of
// context word), password.reused and password.too_weak. A password longer
// than MaxLength skips the history and strength rules, whose cost grows
// with the length.
//
// Check costs microseconds, plus about 10 ms when MinScore is set (zxcvbn)
// and whatever Context.Reused costs.
func (p Policy) Check(pw string, c Context) error {
	field := c.Field
	if field == "" {
		field = "password"
	}
	prob := &problem.Problem{Kind: problem.Invalid}
	if pw == "" {
		return prob.Add(field, "password.required", nil)
	}
	if p.TooLong(pw) {
		max := p.MaxLength
		if max == 0 {
			max = p.MaxBytes() / 4
		}
		return prob.Add(field, "password.too_long", problem.Args{"max": max, "length": utf8.RuneCountInString(pw)})
	}
	pw = p.Prepare(pw)
	n := utf8.RuneCountInString(pw)
	minLen := p.MinLengthFor(c.HasMFA)
	if n < minLen {
		prob.Add(field, "password.too_short", problem.Args{"min": minLen, "length": n})
	}
	tooLong := p.MaxLength > 0 && n > p.MaxLength
	if tooLong {
		prob.Add(field, "password.too_long", problem.Args{"max": p.MaxLength, "length": n})
	}

	var control, notAllowed, forbidden, letters charList
	spaces := false
	has := map[Class]bool{}
	for i, r := range pw {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(pw[i:]); size == 1 {
				control.add(r) // invalid UTF-8, shown as U+FFFD
				continue
			}
		}
		switch {
		case unicode.IsControl(r):
			control.add(r)
		case !p.Alphabet.allows(r):
			if r == ' ' {
				spaces = true
			} else {
				notAllowed.add(r)
			}
		case strings.ContainsRune(p.Forbidden, r):
			forbidden.add(r)
		case p.forbiddenLetter(r):
			letters.add(r)
		default:
			switch {
			case unicode.IsUpper(r) || unicode.IsTitle(r):
				has[Upper] = true
			case unicode.IsLower(r):
				has[Lower] = true
			case unicode.IsDigit(r):
				has[Digit] = true
			case unicode.IsPunct(r) || unicode.IsSymbol(r):
				has[Special] = true
			}
		}
	}
	if len(control.runes) > 0 {
		prob.Add(field, "password.control_char", control.args())
	}
	if len(notAllowed.runes) > 0 {
		args := notAllowed.args()
		args["allowed"] = p.Alphabet.ref()
		prob.Add(field, "password.chars_not_allowed", args)
	}
	if spaces {
		prob.Add(field, "password.no_spaces", problem.Args{"allowed": p.Alphabet.ref()})
	}
	if len(forbidden.runes) > 0 {
		args := forbidden.args()
		args["forbidden"] = spaced(p.Forbidden)
		prob.Add(field, "password.forbidden_char", args)
	}
	if len(letters.runes) > 0 {
		args := letters.args()
		args["forbidden"] = spaced(p.ForbiddenLetters)
		prob.Add(field, "password.letters_not_allowed", args)
	}
	for _, cl := range classes {
		if !slices.Contains(p.Require, cl) || has[cl] {
			continue
		}
		switch cl {
		case Upper:
			prob.Add(field, "password.need_upper", nil)
		case Lower:
			prob.Add(field, "password.need_lower", nil)
		case Digit:
			prob.Add(field, "password.need_digit", nil)
		case Special:
			prob.Add(field, "password.need_special", problem.Args{"examples": p.specialExamples()})
		}
	}

	if p.Blocklist {
		if p.blocklisted(pw) {
			prob.Add(field, "password.blocklisted", nil)
		} else if key, args := pattern(pw); key != "" {
			prob.Add(field, key, args)
		}
	}
	var words []contextWord
	if p.ContextWords || p.MinScore > 0 {
		words = contextWords(c)
	}
	if p.ContextWords {
		for _, what := range matchContext(pw, words, minLen) {
			prob.Add(field, "password.contains_context", problem.Args{"what": what})
		}
	}
	if !tooLong && p.History > 0 && c.Reused != nil && c.Reused(pw) {
		prob.Add(field, "password.reused", problem.Args{"count": p.History})
	}
	if !tooLong && p.MinScore > 0 {
		inputs := make([]string, len(words))
		for i, w := range words {
			inputs[i] = w.word
		}
		if score := zxcvbn.PasswordStrength(firstRunes(pw, scoreRunes), inputs).Score; score < p.MinScore {
			prob.Add(field, "password.too_weak", problem.Args{"score": score, "min": p.MinScore})
		}
	}
	return prob.OrNil()
}

// Rules returns the requirements to show before the user types, in the
// order of Check's details. The minimum length names both values when a
// second factor lowers it. A maximum of 128 or more is left out, since
// nobody types that much by hand. Policies without composition rules end
// with a tip about passphrases.
func (p Policy) Rules() []Rule {
	var out []Rule
	add := func(key string, args problem.Args) { out = append(out, Rule{Key: key, Args: args}) }
	if mfa := p.MinLengthFor(true); mfa < p.MinLength {
		add("password.rule.min_length_mfa", problem.Args{"min": p.MinLength, "min_mfa": mfa})
	} else if p.MinLength > 0 {
		add("password.rule.min_length", problem.Args{"min": p.MinLength})
	}
	if p.MaxLength > 0 && p.MaxLength < 128 {
		add("password.rule.max_length", problem.Args{"max": p.MaxLength})
	}
	if ref := p.Alphabet.ref(); ref != "" {
		add("password.rule.alphabet", problem.Args{"allowed": ref})
	}
	if p.Forbidden != "" {
		add("password.rule.forbidden", problem.Args{"forbidden": spaced(p.Forbidden)})
	}
	if p.ForbiddenLetters != "" {
		add("password.rule.forbidden_letters", problem.Args{"forbidden": spaced(p.ForbiddenLetters)})
	}
	for _, cl := range classes {
		if !slices.Contains(p.Require, cl) {
			continue
		}
		switch cl {
		case Upper:
			add("password.rule.upper", nil)
		case Lower:
			add("password.rule.lower", nil)
		case Digit:
			add("password.rule.digit", nil)
		case Special:
			add("password.rule.special", problem.Args{"examples": p.specialExamples()})
		}
	}
	if p.Blocklist {
		add("password.rule.blocklist", nil)
		add("password.rule.patterns", nil)
	}
	if p.ContextWords {
		add("password.rule.context", nil)
	}
	if p.History > 0 {
		add("password.rule.history", problem.Args{"count": p.History})
	}
	if p.MinScore > 0 {
		add("password.rule.min_score", problem.Args{"min": p.MinScore})
	}
	if len(p.Require) == 0 {
		add("password.rule.passphrase", nil)
	}
	return out
}

// RulesFor returns the rules to show to one account: like Rules, but the
// minimum length is only the one that applies, MinLengthWithMFA (saying
// that it is because of the second factor) when hasMFA, MinLength
// otherwise. A page that knows whose password it is shows these, so that
// the rule shown is the rule Check applies with Context.HasMFA.
func (p Policy) RulesFor(hasMFA bool) []Rule {
	out := p.Rules()
	if len(out) == 0 || out[0].Key != "password.rule.min_length_mfa" {
		return out
	}
	if hasMFA {
		out[0] = Rule{Key: "password.rule.min_length_has_mfa", Args: problem.Args{"min": p.MinLengthFor(true)}}
	} else {
		out[0] = Rule{Key: "password.rule.min_length", Args: problem.Args{"min": p.MinLength}}
	}
	return out
}

// forbiddenLetter reports whether r is one of ForbiddenLetters, in any case.
func (p Policy) forbiddenLetter(r rune) bool {
	if p.ForbiddenLetters == "" || !unicode.IsLetter(r) {
		return false
	}
	for _, f := range p.ForbiddenLetters {
		if unicode.ToLower(f) == unicode.ToLower(r) || unicode.ToUpper(f) == unicode.ToUpper(r) {
			return true
		}
	}
	return false
}

// specialCandidates are the special characters offered as examples, in
// order of preference: easy to find on Nordic and English keyboards.
const specialCandidates = "!?#-_.*+"

// specialExamples returns up to four special characters the policy
// accepts, separated by spaces, for password.need_special.
func (p Policy) specialExamples() string {
	var ex []string
	for _, r := range specialCandidates {
		if p.Alphabet.allows(r) && !strings.ContainsRune(p.Forbidden, r) {
			ex = append(ex, string(r))
		}
		if len(ex) == 4 {
			break
		}
	}
	return strings.Join(ex, " ")
}

// maxShown is how many offending characters a message names before "…".
const maxShown = 5

// charList collects offending characters once each, in order of appearance.
type charList struct {
	runes []rune
}

func (l *charList) add(r rune) {
	if !slices.Contains(l.runes, r) {
		l.runes = append(l.runes, r)
	}
}

// args returns {"chars": "a b c", "count": 3}; count feeds the plural form.
func (l charList) args() problem.Args {
	shown := make([]string, 0, maxShown+1)
	for i, r := range l.runes {
		if i == maxShown {
			shown = append(shown, "…")
			break
		}
		shown = append(shown, showRune(r))
	}
	return problem.Args{"chars": strings.Join(shown, " "), "count": len(l.runes)}
}

// showRune returns r as the user would recognise it, or as U+XXXX when it
// is invisible: a control or format character, a space other than the
// ASCII one, a lone combining mark or invalid UTF-8 (U+FFFD).
func showRune(r rune) string {
	if r == utf8.RuneError || !unicode.IsGraphic(r) || unicode.IsSpace(r) || unicode.IsMark(r) {
		return fmt.Sprintf("U+%04X", r)
	}
	return string(r)
}

// spaced returns the characters of s separated by spaces: "@%&" → "@ % &".
func spaced(s string) string {
	parts := make([]string, 0, len(s))
	for _, r := range s {
		parts = append(parts, showRune(r))
	}
	return strings.Join(parts, " ")
}

// firstRunes returns the first n code points of s.
func firstRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
