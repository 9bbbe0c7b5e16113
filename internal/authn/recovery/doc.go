// Package recovery makes and checks saved recovery codes: the list of
// single-use codes a user prints or stores at enrollment, which can stand
// in for a lost second factor (NIST SP 800-63B-4 §4.2.1.1, "saved recovery
// codes"; SECURITY.md §2.3 and §2.7).
//
// A code is 16 characters of Crockford's base32 alphabet in lower case,
// grouped by four: "k7q4-9xm2-pd3f-h8wa". That is 80 random bits, above
// the 64 NIST asks for recovery codes (SECURITY.md §2.7 rejects a 10-character,
// 50-bit code). Crockford's alphabet leaves out i, l, o and u, so what a
// user reads off paper as an "o" or an "l" is taken as the 0 or 1 it must
// have been.
//
// The package has no storage and no HTTP. The flow package stores one
// Hash per code and deletes the hash when the code is used, in the same
// transaction as the login or recovery it grants, so that a code works
// once even under concurrent submissions (SECURITY.md §5.4):
//
//	codes, err := recovery.Generate(0)          // show once, never again
//	for _, c := range codes { store(recovery.Hash(c)) }
//
//	if !recovery.Valid(input) { … Problem: "that is not a recovery code" … }
//	… DELETE FROM recovery_codes WHERE account = $1 AND hash = $2
//	  (recovery.Hash(input)); one row deleted = accepted …
//
// Valid is a shape check only; it lets the page say "a recovery code looks
// like xxxx-xxxx-xxxx-xxxx" without spending one of the user's limited
// attempts on a typo. Attempts that pass Valid must still be rate limited
// (NIST SP 800-63B §3.2.2), and using a code must notify the user and
// offer a new set (§2.7).
package recovery
