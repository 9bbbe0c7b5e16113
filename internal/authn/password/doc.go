// Package password decides which passwords an account may choose, and
// hashes and verifies them.
//
// It has two halves that meet only in the caller: a Policy, which checks a
// new password and explains every broken rule in the user's language, and
// a Hasher, which turns an accepted password into an Argon2id PHC string
// and checks a login against it. Neither knows about HTTP or storage; the
// flow package calls them and stores the result.
//
// # Setting a password
//
// Sign-up, recovery and the settings page all do the same thing:
//
//	pw = policy.Prepare(pw) // NFKC, when the policy normalizes
//	err := policy.Check(pw, password.Context{
//		Email: acct.Email, Username: acct.Username, Name: acct.Name,
//		ServiceName: cfg.ServiceName, HasMFA: acct.HasMFA,
//		Reused: func(pw string) bool { … Hasher.Verify against each old hash … },
//	})
//	if err != nil {
//		return err // a *problem.Problem: re-render the form with every detail
//	}
//	hash, err := hasher.Hash(ctx, pw)
//
// Check returns nil or a *problem.Problem of kind Invalid with one Detail
// per broken rule, all on Context.Field ("password" unless the form names
// the field otherwise). Every rule is checked every time, so the user sees
// everything at once instead of one complaint per attempt. Each detail is a
// message key with named arguments; the catalogs in internal/i18n/locales
// (password.en.json, password.nb.json, password.sv.json) state the rule and
// the remedy, e.g. for the udi preset and "Pass@word1":
//
//	en: The password can't contain @. This service doesn't allow @ % &. Choose another character.
//	nb: Passordet kan ikke inneholde @. Denne tjenesten tillater ikke @ % &. Velg et annet tegn.
//	sv: Lösenordet får inte innehålla @. Den här tjänsten tillåter inte @ % &. Välj ett annat tecken.
//
// Policy.Rules lists the same rules as keys for the page to show before
// the user types (password.rule.*).
//
// # Logging in
//
//	ok, rehash, err := hasher.Verify(ctx, policy.Prepare(pw), stored)
//	if err != nil { … a broken stored hash: log it, fail the login … }
//	if ok && rehash { … store hasher.Hash(ctx, policy.Prepare(pw)) … }
//
// and, when there is no account or no password to compare with, call
// hasher.VerifyDummy(ctx, pw) so that the answer takes as long as a real
// check (SECURITY.md §5.1).
//
// # Presets
//
// A policy starts from a preset and the operator's Config overrides it
// field by field:
//
//	preset  length            classes                      characters                          blocklist
//	nist    15, 8 with MFA    none                         any Unicode                         yes, with context words
//	altinn  15, 8 with MFA    none                         letters and digits only             yes, with context words
//	visma   8                 upper, lower, digit, special any Unicode                         yes, with context words
//	udi     8                 upper, lower, digit          Latin, no @ % &, no æ ø å           yes, with context words
//
// Every preset allows 256 characters, normalizes with NFKC and keeps no
// history and no minimum zxcvbn score. nist is the default and follows NIST
// SP 800-63B-4 §3.1.1.2. The other three reproduce the seed systems
// (shared/seeds): Altinn's "kun bokstaver og tall", Visma Connect's
// 8/upper/lower/digit/special and UDI's "ikke spesialtegn som @, % eller &,
// ikke æ, ø eller å, ikke bokstaver utenfor det latinske alfabetet". They
// break NIST on purpose, and Config.Deviations says where. The Altinn seed
// names no length, so altinn keeps nist's.
//
// # The rules
//
// Normalization. With Normalize (all presets) the password is converted to
// Unicode NFKC before anything else, and the normalized form is what is
// checked and hashed: "é" typed as U+00E9 and as "e" + U+0301 is the same
// password, and so are "Ａ" and "A". Length is counted in code points after
// normalization, so "é" is one character however it was typed.
//
// Length. At least MinLength characters, or MinLengthWithMFA when
// Context.HasMFA; at most MaxLength. An empty password gives only
// password.required.
//
// Characters. Each character is judged once, by the first rule that
// refuses it:
//
//  1. control characters (Unicode Cc: tab, line feed, NUL, …) and invalid
//     UTF-8 are refused under every alphabet (password.control_char);
//  2. the Alphabet: any (everything else), printable-ascii (U+0020–U+007E),
//     latin (printable ASCII plus Latin-script letters and combining
//     accents) or letters-digits (letters and digits of any script, no
//     spaces or symbols) (password.chars_not_allowed, and password.no_spaces
//     for a space under letters-digits);
//  3. Forbidden, a set of ASCII punctuation and symbols such as "@%&"
//     (password.forbidden_char);
//  4. ForbiddenLetters, a set of letters such as "æøå", in either case
//     (password.letters_not_allowed).
//
// The offending characters are named one by one, in order of appearance,
// without repeats, at most five and then "…". Invisible ones are written as
// U+XXXX.
//
// Classes. Require lists classes of which at least one character must
// appear: upper (upper- or title-case letter), lower, digit (decimal digit)
// and special (punctuation or symbol; a space does not count). Only
// characters the policy accepts count, so "Ærlig123" under udi is told at
// once that Æ is not allowed and that a capital letter is missing, rather
// than learning the second only after fixing the first.
//
// Blocklist. The whole password (never a substring, as NIST asks), compared
// regardless of case, may not be one of the 30,000 common passwords
// embedded in github.com/trustelem/zxcvbn, nor a line of the operator's
// BlocklistFile (one password per line, surrounding white space trimmed,
// held in memory).
//
// Context words. The password may not be built on the user's email address
// (whole, the part before @ and its pieces, and the domain's names but the
// top-level domain: "example" in kari@example.no), username, name (whole and
// each part) or the service name. Words shorter than four characters are
// ignored. "Built on" means: the password contains a context word, ignoring
// case, and once every context word is cut out, fewer letters and digits
// than the minimum length remain. So for Kari Nordmann "kari.nordmann2024!"
// and "Nordmann-Kari!!" are refused, and a long passphrase that mentions
// Kari is not. This is how the package reads NIST's "context-specific words
// … and derivatives thereof" without turning it into a substring ban.
//
// History. With History > 0 and Context.Reused set, a password the account
// used within its last History passwords is refused (password.reused). The
// caller keeps the old hashes and supplies Reused; each remembered password
// costs one hash verification, which is why History is capped at 24.
// NIST neither asks for nor forbids history; it forbids forced periodic
// changes, which this package does not do.
//
// Strength. With MinScore > 0 the password's zxcvbn score (0–4, with the
// context words as user inputs) must reach it (password.too_weak). zxcvbn's
// matcher grows faster than linearly with length, so only the first 64
// characters are scored, and a password over MaxLength is not scored at
// all.
//
// # Message keys
//
// Problems (Detail.Key and its Args):
//
//	password.required                                   nothing was entered
//	password.too_short            min, length           below MinLengthFor(HasMFA)
//	password.too_long             max, length           above MaxLength
//	password.control_char         chars, count          tab, line break, invalid UTF-8
//	password.chars_not_allowed    chars, count, allowed outside the alphabet; allowed is a problem.Ref to password.alphabet.*
//	password.no_spaces            allowed               a space under letters-digits
//	password.forbidden_char       chars, count, forbidden   one of Forbidden
//	password.letters_not_allowed  chars, count, forbidden   one of ForbiddenLetters
//	password.need_upper, password.need_lower, password.need_digit
//	password.need_special         examples              e.g. "! ? # -", minus forbidden ones
//	password.blocklisted                                a common or operator-listed password, also with digits or punctuation around it or repeated
//	password.pattern.repeated_char  char                mostly one character ("aaaa…"); only when not blocklisted
//	password.pattern.repeated       unit                a short unit repeated ("abcabc…")
//	password.pattern.sequence       sequence            an alphabet, digit or keyboard run ("abcdef…", "123456…", "qwerty…")
//	password.contains_context     what                  a problem.Ref to password.context.{email,username,name,service}
//	password.reused               count                 the History setting
//	password.too_weak             score, min            the zxcvbn score and MinScore
//
// count chooses the plural form. Rules (Rule.Key and its Args):
// password.rule.min_length (min), password.rule.min_length_mfa (min,
// min_mfa; Rules only), password.rule.min_length_has_mfa (min; RulesFor
// an account with a second factor), password.rule.max_length (max), password.rule.alphabet
// (allowed), password.rule.forbidden and password.rule.forbidden_letters
// (forbidden), password.rule.upper, .lower, .digit, password.rule.special
// (examples), password.rule.blocklist, password.rule.patterns,
// password.rule.context,
// password.rule.history (count), password.rule.min_score (min) and
// password.rule.passphrase, a tip shown when there are no class rules.
// password.label, password.rules.intro and password.ok are for the page
// around them.
//
// # Configuration
//
// Config is the "password:" section of the configuration file:
//
//	password:
//	  preset: udi              # nist (default), altinn, visma, udi
//	  min_length: 10           # 0 = the preset's value, for every number below
//	  min_length_with_mfa: 8
//	  max_length: 128          # at most 1024
//	  require: [upper, digit]  # [none] removes the preset's classes
//	  forbidden: "@ % &"       # ASCII punctuation/symbols; spaces ignored; "none" clears
//	  forbidden_letters: "æ ø å"   # letters, both cases; "none" clears
//	  alphabet: latin          # any, printable-ascii, latin, letters-digits
//	  normalize: nfkc          # nfkc or none
//	  blocklist: "on"          # on or off
//	  blocklist_file: /etc/portvakt/blocklist.txt
//	  context_words: "on"      # on or off
//	  history: 5               # 0–24
//	  min_score: 3             # zxcvbn, 0–4
//	  argon2: {memory_kib: 19456, time: 2, threads: 1}
//	  hash_memory_limit_mib: 128  # default: cores × m
//
// Every field's zero value means "as the preset", which is why the on/off
// settings are strings: an unset bool could not be told from "off". Each
// scalar has an environment variable (PORTVAKT_PASSWORD_MIN_LENGTH,
// PORTVAKT_PASSWORD_ARGON2_MEMORY_KIB, …; lists comma-separated).
// Config.Validate reports every mistake with its key and the allowed
// values, Config.Policy builds the policy (reading the blocklist file), and
// Config.Deviations lists, for `config check`, each way the policy departs
// from NIST SP 800-63B-4: a minimum below 15 (8 with MFA), a maximum below
// 64, class rules (a SHALL NOT), forbidden characters and restricted
// alphabets (SHOULD accept printing ASCII, space and Unicode), no
// normalization, no blocklist or context words (SHALL), a zxcvbn minimum
// (not in NIST), and Argon2 parameters weaker than OWASP's table.
//
// # Hashing
//
// New hashes are Argon2id (RFC 9106, version 0x13) in PHC string form:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>
//
// where m is memory in KiB, t the passes, p the lanes, and salt (16 random
// bytes) and tag (32 bytes) are standard base64 without padding. The
// defaults, m=19 MiB, t=2, p=1, are OWASP's and ASVS 11.4.2's floor and
// cost 25–50 ms on one core of the development machine (about 40 raw
// hashes/s per core in BenchmarkArgon2idRaw). Verify accepts
// Argon2id and Argon2i at any parameters up to m=1 GiB, t=100, p=255 and
// bcrypt ($2a$, $2b$, $2y$) up to cost 16, so hashes can be imported from
// other systems; anything else, or a parameter past those caps (a hostile
// import could otherwise make one login cost minutes and gigabytes), is an
// error wrapping ErrMalformedHash or ErrUnsupportedHash. Verify reports
// rehash when the password matched a hash that is not Argon2id at the
// current parameters, so raising the parameters, or importing bcrypt
// hashes, upgrades each account at its next login. The comparison is
// constant-time.
//
// Imported hashes were made from the password as typed. Every preset
// normalizes, and NFKC leaves ASCII alone, so this only matters for an
// imported non-ASCII password that was not in NFKC form; a caller that
// cares can retry Verify with the raw password when the prepared one fails.
//
// # The hashing pool and its memory
//
// Argon2 is memory-hard on purpose: one hash holds m KiB (m blocks of
// 1 KiB) for its whole run, 19 MiB at the defaults. A login storm of 100
// concurrent attempts would otherwise hold 1.9 GB. The Hasher therefore
// books every hash's memory from a weighted semaphore of memoryLimit bytes
// (hash_memory_limit_mib, default one hash per core: cores × m, 38 MiB on
// 2 cores) before it starts, and returns it when done; callers beyond the
// budget wait until their ctx ends. Hence
//
//	concurrent hashes ≤ memoryLimit / (m × 1024)     = cores at the defaults
//	live hash memory  ≤ memoryLimit
//
// An imported hash with a larger m books more (an m=64 MiB hash takes as
// much room as three default ones); a hash larger than the whole budget
// books all of it and runs alone, so its own m is then the bound. bcrypt
// books 8 KiB. Throughput is bounded by the cores, not the pool: on two
// cores, two default hashes at a time already use all the CPU, and more
// slots only add memory and latency. The default budget is cores × m
// (DefaultHashMemoryLimit); raise it for imported hashes with a larger m.
//
// A finished hash's memory is kept for the next one (internal/argon2's
// Memory): at most one per hash that can run at once, each one hash at
// the current m, dropped after a minute without hashing. So a server
// under login load allocates nothing per hash, and its hash memory is the
// budget, not a stream of m KiB garbage for the collector: issue 12
// measured a sign-in at 52–62 server CPU-ms before (the runtime zeroing,
// collecting and re-faulting 19 MiB a hash) and 24–26 after, beside a raw
// hash of 20–24. A hash with a larger m than the current parameters (an
// imported one) gets fresh memory that is not kept. serve sets the Go
// runtime's soft memory limit to the budget plus headroom
// (cmd/portvakt/memory.go). Hasher.Stats reports the budget, the memory
// in use and kept, the peak, the number of waiting callers and of
// refusals.
//
// # Fair and bounded waiting
//
// A queue that serves callers in arrival order lets one client that sends
// ten thousand sign-ins starve everyone else (issue 10, finding 5). So
// each caller names its source with WithSource (the web package uses the
// client's /24 or /64), waiters queue per source, and the pool grants
// sources in turn, one hash each. A newcomer from a quiet source waits for
// what runs now plus at most one hash from each busy source. And the wait
// is bounded: the pool keeps a running mean of how long a hash takes, and a
// caller whose estimated wait (the memory booked ahead of it in its turn,
// in units of the budget, times that mean) passes MaxWait (3 s) is refused
// at once with a *BusyError carrying a Retry-After, which the web answers
// as 503 (a source with fewer than four waiters is always admitted, so a
// slow machine does not refuse ordinary sign-ins). A flood from one source
// thus keeps about MaxWait's worth of its
// own hashes queued and is refused beyond that, while other sources are
// served within a round. A caller already queued gives up after 2×MaxWait.
//
// A password longer than Policy.MaxBytes (four bytes per code point of
// MaxLength) is refused before it is normalised or hashed, and an imported
// hash must pass CheckImported: at most half the pool's memory and eight
// times the current parameters' work.
//
// # Benchmarks
//
//	go test -run '^$' -bench . -benchtime 2s ./internal/authn/password
//
// BenchmarkArgon2idRaw is argon2.IDKey at the default parameters, the
// machine's raw hashes per second on one goroutine; BenchmarkHasherHash
// adds salt generation, PHC encoding and the pool; and
// BenchmarkHasherVerifyParallel is the login rate on all cores through the
// pool. Each reports hashes/s.
package password
