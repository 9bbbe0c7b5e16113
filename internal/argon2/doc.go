// Package argon2 is golang.org/x/crypto/argon2 (v0.58.0, BSD-3, see
// LICENSE) with one change: a hash can run in memory kept from the last
// one (Memory), instead of allocating m KiB for every call.
//
// Why a copy. DEPENDENCIES.md names x/crypto's argon2.IDKey, and this is
// that code: the BLAKE2b-based H', the compression function G in the same
// SSE/LSX assembly, the same indexing. x/crypto's API allocates a fresh
// []block for every hash. At the defaults (m=19 MiB) a password server
// then asks the Go runtime for 19 MiB per sign-in, which it zeroes, and
// which the scavenger hands back to the system under the server's memory
// limit, to be faulted in again by the next hash. Issue 12 measured it on
// the 2-core VM: a sign-in cost 52–62 server CPU-ms where a warm raw hash
// costs 23–27, and 23 % of the server's CPU was runtime.memclrNoHeapPointers.
// Without the memory limit the cost fell to 34 CPU-ms but a login storm's
// RSS rose to 161–177 MiB (the issue asks for under 120). Kept memory
// gives both: no allocation, no zeroing, no faults, and a fixed footprint
// of one Memory per hash the pool lets run at once.
//
// The one change to the algorithm's code: x/crypto XORs every new block
// into memory it zeroed, in the first pass too; this package writes the
// first pass's blocks (RFC 9106 §3.2 step 5: B[i][j] = G(…)) and XORs only
// in later passes (step 6), so memory used before needs no zeroing. Every
// block is written in the first pass before any read of it.
//
// A kept Memory does not ask for transparent huge pages (madvise
// MADV_HUGEPAGE; issue 12 tried it for 2 % on the hash alone, less than
// noise inside the server): its blocks are Go heap memory, the advice
// would outlive the Memory on that address range, and khugepaged then
// makes any later use of it resident in whole 2 MiB pages the runtime
// counts as returned (huge_review_test.go).
//
// The tests hold it to x/crypto: RFC 9106's and phc-winner-argon2's test
// vectors, and the same key as x/crypto's IDKey and Key for random
// passwords, salts and parameters with one Memory reused across sizes
// (a test and a fuzz target). Argon2d and the secret and associated data
// inputs are not exposed, as in x/crypto.
package argon2
