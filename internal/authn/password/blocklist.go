package password

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/text/unicode/norm"

	"github.com/portvakt/portvakt/internal/problem"
)

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

// commonPasswords returns the 30,000 most common passwords that zxcvbn
// embeds (all lower case), as a set built on first use.
func commonPasswords() map[string]struct{} {
	commonOnce.Do(func() {
		list := frequency.Passwords()
		common = make(map[string]struct{}, len(list))
		for _, w := range list {
			common[strings.ToLower(w)] = struct{}{}
		}
	})
	return common
}

// blocklisted reports whether the prepared password, regardless of case,
// is on the embedded list or the operator's list, either whole or once the
// digits, punctuation and spaces around it are cut off and a repeated unit
// is collapsed (see bases): "password12345678", "Dragon!!2024" and
// "monkeymonkeymonkey" are as common as "password", "dragon" and "monkey",
// whatever the minimum length.
func (p Policy) blocklisted(pw string) bool {
	for _, k := range bases(pw) {
		if _, ok := commonPasswords()[k]; ok {
			return true
		}
		if _, ok := p.extra[k]; ok {
			return true
		}
	}
	return false
}

// maxBlocklistLine bounds one line of the operator's blocklist file.
const maxBlocklistLine = 64 << 10

// loadBlocklist reads the operator's file: one password per line, UTF-8,
// surrounding white space trimmed, empty lines skipped, compared regardless
// of case (and NFKC-normalized when the policy normalizes).
func loadBlocklist(path string, normalize bool) (map[string]struct{}, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read password blocklist: %w", err)
	}
	defer f.Close()
	set := map[string]struct{}{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxBlocklistLine)
	for sc.Scan() {
		w := strings.TrimSpace(sc.Text())
		if w == "" {
			continue
		}
		if normalize {
			w = norm.NFKC.String(w)
		}
		set[strings.ToLower(w)] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read password blocklist %s: %w", path, err)
	}
	return set, nil
}

// minContextWord is the shortest context word that counts. Shorter ones
// ("ola", "ab") would match inside too many unrelated passwords.
const minContextWord = 4

// The kinds of context word, in the order Check reports them.
var contextKinds = []problem.Ref{
	problem.Ref("password.context.email"),
	problem.Ref("password.context.username"),
	problem.Ref("password.context.name"),
	problem.Ref("password.context.service"),
}

type contextWord struct {
	word string      // lower case, NFKC
	what problem.Ref // one of contextKinds
}

// contextWords derives the words a password may not be built on:
//
//   - email: the whole address, the part before @, that part without
//     separators, each of its pieces, and the domain's names but the
//     top-level domain ("kari.nordmann@example.no" gives "kari.nordmann",
//     "karinordmann", "kari", "nordmann" and "example");
//   - username, name and service name: the whole value, the value without
//     separators, and each piece ("Kari Nordmann" gives "kari nordmann",
//     "karinordmann", "kari", "nordmann").
//
// Pieces are split at anything that is not a letter or digit, and words of
// fewer than minContextWord characters are dropped.
func contextWords(c Context) []contextWord {
	var out []contextWord
	seen := map[contextWord]bool{}
	add := func(what problem.Ref, s string) {
		s = strings.ToLower(norm.NFKC.String(strings.TrimSpace(s)))
		w := contextWord{word: s, what: what}
		if utf8.RuneCountInString(s) < minContextWord || seen[w] {
			return
		}
		seen[w] = true
		out = append(out, w)
	}
	addAll := func(what problem.Ref, s string) {
		pieces := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		add(what, s)
		add(what, strings.Join(pieces, ""))
		for _, piece := range pieces {
			add(what, piece)
		}
	}
	if c.Email != "" {
		add(contextKinds[0], c.Email)
		local, domain := c.Email, ""
		if i := strings.LastIndexByte(c.Email, '@'); i >= 0 {
			local, domain = c.Email[:i], c.Email[i+1:]
		}
		addAll(contextKinds[0], local)
		if i := strings.LastIndexByte(domain, '.'); i >= 0 {
			domain = domain[:i] // the top-level domain says nothing about the user
		}
		for _, label := range strings.FieldsFunc(domain, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			add(contextKinds[0], label)
		}
	}
	addAll(contextKinds[1], c.Username)
	addAll(contextKinds[2], c.Name)
	addAll(contextKinds[3], c.ServiceName)
	return out
}

// matchContext returns the kinds of context word the password is built on.
// A password is built on context words when it contains at least one,
// ignoring case, and what remains after cutting every context word out
// holds fewer letters and digits than the minimum length: "kari2024" and
// "Nordmann.Kari!" are refused for Kari Nordmann, while a long passphrase
// that merely mentions a name is not. NIST SP 800-63B-4 asks for the
// service name, the username "and derivatives thereof" on the blocklist;
// this is how Portvakt reads "derivatives".
func matchContext(pw string, words []contextWord, minLen int) []problem.Ref {
	s := strings.ToLower(pw)
	found := map[problem.Ref]bool{}
	for _, w := range words {
		if strings.Contains(s, w.word) {
			found[w.what] = true
		}
	}
	if len(found) == 0 {
		return nil
	}
	byLength := slices.Clone(words)
	slices.SortStableFunc(byLength, func(a, b contextWord) int { return len(b.word) - len(a.word) })
	for _, w := range byLength {
		s = strings.ReplaceAll(s, w.word, "\x00")
	}
	left := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			left++
		}
	}
	if left >= minLen {
		return nil
	}
	var out []problem.Ref
	for _, k := range contextKinds {
		if found[k] {
			out = append(out, k)
		}
	}
	return out
}
