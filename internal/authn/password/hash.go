package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/portvakt/portvakt/internal/argon2"
)

// Errors from Verify and NeedsRehash about the stored hash. Neither is the
// user's fault: log them and treat the login as failed.
var (
	// ErrMalformedHash means the stored string is not a well-formed PHC or
	// bcrypt hash.
	ErrMalformedHash = errors.New("malformed password hash")
	// ErrUnsupportedHash means the hash is well-formed but uses a scheme,
	// version or parameters this package refuses (see the limits below).
	ErrUnsupportedHash = errors.New("unsupported password hash")
)

// Limits on stored hashes. An imported hash is data, and a hostile one
// with m=4 GiB or t=1e6 would make every login attempt on that account a
// denial of service, so parameters beyond these are refused.
const (
	MaxArgon2Memory  = 1 << 20 // KiB (1 GiB)
	MaxArgon2Time    = 100
	MaxArgon2Threads = 255
	MaxBcryptCost    = 16 // ~4 s per check on a 2020s core
	minSaltLen       = 8  // bytes; PHC and RFC 9106 minimum (NIST: ≥ 32 bits)
	maxSaltLen       = 64
	minKeyLen        = 16 // bytes; shorter tags are too easy to collide
	maxKeyLen        = 128
	maxEncodedLen    = 512
)

// Argon2Params are Argon2id's cost parameters.
type Argon2Params struct {
	Memory  uint32 // m, in KiB
	Time    uint32 // t, passes over the memory
	Threads uint8  // p, lanes (and goroutines)
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes of tag
}

// DefaultArgon2Params returns m=19456 KiB (19 MiB), t=2, p=1, a 16-byte
// salt and a 32-byte tag: OWASP's first recommended Argon2id setting and
// the ASVS 11.4.2 floor (SECURITY.md, "Next in line").
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// DefaultHashMemoryLimit returns the pool's memory budget when NewHasher
// is given 0: one hash per core at p's memory, that is GOMAXPROCS / p's
// lanes (at least one) × m. At the defaults on 2 cores that is 38 MiB,
// two hashes at once.
//
// Argon2 is CPU-bound: more hashes at once than cores only wait for a
// core while holding their memory, so they add RSS and no throughput.
// Issue 12 measured it: the former fixed 128 MiB let six hashes run on 2
// cores and RSS peaked at 314–391 MiB in a login storm; cores × m gave
// 164–183 MiB at the same logins/s. hash_memory_limit_mib raises it.
func DefaultHashMemoryLimit(p Argon2Params) uint64 {
	if p.Memory == 0 {
		p.Memory = DefaultArgon2Params().Memory
	}
	slots := runtime.GOMAXPROCS(0) / max(int(p.Threads), 1)
	return uint64(max(slots, 1)) * uint64(argon2Weight(p.Memory))
}

// bcryptWeight is what a bcrypt check books from the pool: Blowfish's
// state is about 4 KiB and the work is CPU-bound.
const bcryptWeight = 8 << 10

// Hasher hashes and verifies passwords with Argon2id in PHC string form,
// and verifies imported Argon2i and bcrypt hashes. Every hash runs inside a
// memory-bounded pool (see the package documentation for the arithmetic).
// A Hasher is safe for concurrent use.
type Hasher struct {
	params Argon2Params
	limit  int64
	pool   *pool
	mem    memories
	dummy  string

	inUse, peak atomic.Int64
	// verifications and dummies count Verify and VerifyDummy calls that
	// computed a hash; they only grow.
	verifications, dummies atomic.Int64
	busy                   atomic.Int64
}

// NewHasher returns a Hasher that hashes with p and lets at most
// memoryLimit bytes of hash memory be in use at once. Zero fields of p take
// DefaultArgon2Params' values; memoryLimit 0 means DefaultHashMemoryLimit(p).
// Parameters outside this package's limits are an error.
func NewHasher(p Argon2Params, memoryLimit uint64) (*Hasher, error) {
	d := DefaultArgon2Params()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	if err := checkArgon2(p.Memory, p.Time, p.Threads); err != nil {
		return nil, fmt.Errorf("argon2 parameters: %w", err)
	}
	if p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen {
		return nil, fmt.Errorf("argon2 parameters: salt length %d is outside %d–%d bytes", p.SaltLen, minSaltLen, maxSaltLen)
	}
	if p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen {
		return nil, fmt.Errorf("argon2 parameters: key length %d is outside %d–%d bytes", p.KeyLen, minKeyLen, maxKeyLen)
	}
	if memoryLimit == 0 {
		memoryLimit = DefaultHashMemoryLimit(p)
	}
	if memoryLimit > 1<<50 {
		memoryLimit = 1 << 50
	}
	// The pool's estimate of how long a hash takes starts from the
	// parameters (see firstEstimate) and then follows the hashes actually
	// done. No hash is timed here: one at the defaults costs 40–100 ms,
	// which every process start (serve and each CLI command) would pay
	// before it could answer /healthz (issue 12: start to healthy ≤ 100 ms).
	h := &Hasher{params: p, limit: int64(memoryLimit), pool: newPool(int64(memoryLimit), firstEstimate(p))}
	h.mem.keepBytes, h.mem.maxKept, h.mem.idle = argon2.MemoryFor(p.Memory, p.Threads), h.Concurrency(), memoryIdle
	// The dummy has the current parameters and random bytes for a tag, so
	// verifying against it costs exactly one real verification and never
	// succeeds.
	h.dummy = encodeArgon2id(p, randomBytes(p.SaltLen), randomBytes(p.KeyLen))
	return h, nil
}

// firstEstimate is how long one hash at p is assumed to take before any
// has been timed: about 2 µs per KiB of memory per pass per lane, what
// argon2id costs on a current x86-64 or arm64 core (69 CPU-ms at the
// defaults, m=19 MiB, t=2, measured in docs/benchmarks.md). It only seeds
// the pool's running mean, which the first few real hashes correct, and
// the pool admits a few waiters per source whatever the estimate says.
func firstEstimate(p Argon2Params) time.Duration {
	lanes := max(time.Duration(p.Threads), 1)
	return time.Duration(p.Memory) * time.Duration(p.Time) * 2 * time.Microsecond / lanes
}

// SetMaxWait sets how long a hash may expect to queue before it is
// refused with ErrBusy (default DefaultMaxWait). Call it before use.
func (h *Hasher) SetMaxWait(d time.Duration) {
	if d > 0 {
		h.pool.maxWait = d
	}
}

// Params returns the parameters new hashes use.
func (h *Hasher) Params() Argon2Params { return h.params }

// Concurrency returns how many hashes at the current parameters can run at
// once: memoryLimit / (Memory × 1024), at least 1.
func (h *Hasher) Concurrency() int {
	n := h.limit / argon2Weight(h.params.Memory)
	return int(max(n, 1))
}

// PoolStats describe the hashing pool's memory, in bytes.
type PoolStats struct {
	Limit   int64 // the budget given to NewHasher
	InUse   int64 // booked by hashes running now
	Peak    int64 // the most ever booked at once
	Waiting int64 // callers waiting for room
	// Verifications counts the hashes Verify has computed (VerifyDummy's
	// included) and Dummies those of VerifyDummy: a sign-in for an unknown
	// account must cost exactly one dummy, as a known one costs one
	// verification.
	Verifications, Dummies int64
	// Busy counts the hashes refused with ErrBusy.
	Busy int64
	// Kept is the hash memory kept for the next hashes (memories), and
	// KeptN how many hashes' worth.
	Kept, KeptN int64
}

// Stats returns the pool's current state, for metrics and tests.
func (h *Hasher) Stats() PoolStats {
	_, waiting := h.pool.stats()
	keptN, kept := h.mem.kept()
	return PoolStats{Limit: h.limit, InUse: h.inUse.Load(), Peak: h.peak.Load(), Waiting: int64(waiting),
		Verifications: h.verifications.Load(), Dummies: h.dummies.Load(), Busy: h.busy.Load(),
		Kept: kept, KeptN: int64(keptN)}
}

// Hash returns pw hashed with Argon2id at the Hasher's parameters and a
// fresh random salt, as a PHC string:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>
//
// with salt and tag in standard base64 without padding. pw should come from
// Policy.Prepare. Hash waits for room in the pool and returns ctx's error
// if ctx ends first.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	p := h.params
	salt := randomBytes(p.SaltLen)
	release, err := h.acquire(ctx, argon2Weight(p.Memory))
	if err != nil {
		return "", err
	}
	defer release()
	mem := h.mem.get(argon2.MemoryFor(p.Memory, p.Threads))
	defer h.mem.put(mem)
	key := argon2.IDKey(mem, []byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encodeArgon2id(p, salt, key), nil
}

// Verify reports whether pw matches the stored hash encoded, which may be
// an Argon2id or Argon2i PHC string (version 19, any parameters within the
// limits) or a bcrypt hash ($2a$, $2b$, $2y$). The tag comparison is
// constant-time. rehash is true when pw matched and encoded is not Argon2id
// at the Hasher's current parameters: the caller should then store the
// result of Hash(ctx, pw).
//
// A malformed or unsupported hash is an error wrapping ErrMalformedHash or
// ErrUnsupportedHash, never a panic; the error never quotes the hash. A
// wrong password is (false, false, nil). Verify waits for room in the pool
// and returns ctx's error if ctx ends first.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	if strings.HasPrefix(encoded, "$2") {
		return h.verifyBcrypt(ctx, pw, encoded)
	}
	s, err := parseArgon2(encoded)
	if err != nil {
		return false, false, err
	}
	release, err := h.acquire(ctx, argon2Weight(s.memory))
	if err != nil {
		return false, false, err
	}
	defer release()
	h.verifications.Add(1)
	mem := h.mem.get(argon2.MemoryFor(s.memory, s.threads))
	defer h.mem.put(mem)
	var got []byte
	if s.variant == "argon2id" {
		got = argon2.IDKey(mem, []byte(pw), s.salt, s.time, s.memory, s.threads, uint32(len(s.key)))
	} else {
		got = argon2.Key(mem, []byte(pw), s.salt, s.time, s.memory, s.threads, uint32(len(s.key)))
	}
	if subtle.ConstantTimeCompare(got, s.key) != 1 {
		return false, false, nil
	}
	return true, !h.current(s), nil
}

// VerifyDummy spends the time of one verification at the current
// parameters and always fails. Call it when the account does not exist,
// is locked, or has no password, so that a response's timing does not tell
// an attacker which (SECURITY.md §5.1). It returns only ctx's error.
//
// Stored hashes at older parameters or in bcrypt take a different time;
// Verify's rehash moves them to the current parameters at the next login.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) error {
	_, _, err := h.Verify(ctx, pw, h.dummy)
	if err == nil {
		h.dummies.Add(1)
	}
	return err
}

// NeedsRehash reports whether encoded is anything but Argon2id at the
// current parameters, without verifying a password. A malformed hash is an
// error, as in Verify.
func (h *Hasher) NeedsRehash(encoded string) (bool, error) {
	if strings.HasPrefix(encoded, "$2") {
		_, err := parseBcrypt(encoded)
		return true, err
	}
	s, err := parseArgon2(encoded)
	if err != nil {
		return false, err
	}
	return !h.current(s), nil
}

func (h *Hasher) current(s argon2Hash) bool {
	p := h.params
	return s.variant == "argon2id" && s.memory == p.Memory && s.time == p.Time && s.threads == p.Threads &&
		uint32(len(s.salt)) == p.SaltLen && uint32(len(s.key)) == p.KeyLen
}

func (h *Hasher) verifyBcrypt(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	if _, err := parseBcrypt(encoded); err != nil {
		return false, false, err
	}
	release, err := h.acquire(ctx, bcryptWeight)
	if err != nil {
		return false, false, err
	}
	defer release()
	h.verifications.Add(1)
	// bcrypt reads at most 72 bytes of the password; the legacy system that
	// made the hash did the same, and the rehash ends that at once.
	switch err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw)); {
	case err == nil:
		return true, true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	default:
		return false, false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
	}
}

// acquire books weight bytes from the pool for ctx's source (WithSource),
// waiting while it is full, or refuses with a *BusyError when the wait
// would pass MaxWait. A single hash bigger than the whole budget books the
// whole budget, so it runs alone.
func (h *Hasher) acquire(ctx context.Context, weight int64) (release func(), err error) {
	weight = min(weight, h.limit)
	if err := h.pool.acquire(ctx, sourceOf(ctx), weight); err != nil {
		if errors.Is(err, ErrBusy) {
			h.busy.Add(1)
			return nil, err
		}
		return nil, fmt.Errorf("wait for a password hashing slot: %w", err)
	}
	start := time.Now()
	now := h.inUse.Add(weight)
	for {
		peak := h.peak.Load()
		if now <= peak || h.peak.CompareAndSwap(peak, now) {
			break
		}
	}
	return func() {
		h.inUse.Add(-weight)
		h.pool.release(weight, time.Since(start))
	}, nil
}

// argon2Weight is the memory one Argon2 computation holds: m blocks of
// 1 KiB. The rest (the 72-byte H0, a few blocks of scratch per lane) is
// negligible.
func argon2Weight(memoryKiB uint32) int64 { return int64(memoryKiB) * 1024 }

func checkArgon2(m, t uint32, p uint8) error {
	switch {
	case p < 1:
		return fmt.Errorf("p=%d is below 1", p)
	case t < 1 || t > MaxArgon2Time:
		return fmt.Errorf("t=%d is outside 1–%d", t, MaxArgon2Time)
	case m < 8*uint32(p):
		return fmt.Errorf("m=%d KiB is below 8×p=%d", m, 8*uint32(p))
	case m > MaxArgon2Memory:
		return fmt.Errorf("m=%d KiB is above the %d KiB (1 GiB) cap", m, MaxArgon2Memory)
	}
	return nil
}

var b64 = base64.RawStdEncoding.Strict()

func encodeArgon2id(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

type argon2Hash struct {
	variant      string // "argon2id" or "argon2i"
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseArgon2 parses $argon2id$v=19$m=…,t=…,p=…$salt$tag (or argon2i). The
// parameters must come in the order m, t, p, as decimal numbers without
// sign or leading zeros; salt and tag are standard base64 without padding.
func parseArgon2(encoded string) (argon2Hash, error) {
	var s argon2Hash
	malformed := func(format string, args ...any) (argon2Hash, error) {
		return argon2Hash{}, fmt.Errorf("%w: "+format, append([]any{ErrMalformedHash}, args...)...)
	}
	unsupported := func(format string, args ...any) (argon2Hash, error) {
		return argon2Hash{}, fmt.Errorf("%w: "+format, append([]any{ErrUnsupportedHash}, args...)...)
	}
	if len(encoded) > maxEncodedLen {
		return malformed("%d bytes long", len(encoded))
	}
	parts := strings.Split(encoded, "$")
	if len(parts) < 2 || parts[0] != "" {
		return malformed("not a PHC string")
	}
	switch parts[1] {
	case "argon2id", "argon2i":
		s.variant = parts[1]
	case "argon2d":
		return unsupported("argon2d is not accepted for passwords")
	default:
		return unsupported("unknown scheme %q", firstRunes(parts[1], 20))
	}
	if len(parts) == 5 && strings.HasPrefix(parts[2], "m=") {
		return unsupported("%s without v= is Argon2 version 16; only v=19 is supported", s.variant)
	}
	if len(parts) != 6 {
		return malformed("%s: want 6 $-separated fields, got %d", s.variant, len(parts))
	}
	if parts[2] != "v=19" {
		if strings.HasPrefix(parts[2], "v=") {
			return unsupported("%s: version %q; only v=19 is supported", s.variant, firstRunes(parts[2], 12))
		}
		return malformed("%s: want v=19, got %q", s.variant, firstRunes(parts[2], 12))
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return malformed("%s: want parameters m=…,t=…,p=…", s.variant)
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return malformed("%s: parameter %d must be %s=…", s.variant, i+1, name)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != v {
			return malformed("%s: %s=%q is not a decimal number", s.variant, name, firstRunes(v, 12))
		}
		vals[i] = n
	}
	if vals[2] > MaxArgon2Threads {
		return unsupported("%s: p=%d is above %d", s.variant, vals[2], MaxArgon2Threads)
	}
	s.memory, s.time, s.threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	if err := checkArgon2(s.memory, s.time, s.threads); err != nil {
		return unsupported("%s: %v", s.variant, err)
	}
	var err error
	if s.salt, err = b64.DecodeString(parts[4]); err != nil {
		return malformed("%s: salt is not unpadded base64", s.variant)
	}
	if s.key, err = b64.DecodeString(parts[5]); err != nil {
		return malformed("%s: tag is not unpadded base64", s.variant)
	}
	if len(s.salt) < minSaltLen || len(s.salt) > maxSaltLen {
		return unsupported("%s: salt of %d bytes is outside %d–%d", s.variant, len(s.salt), minSaltLen, maxSaltLen)
	}
	if len(s.key) < minKeyLen || len(s.key) > maxKeyLen {
		return unsupported("%s: tag of %d bytes is outside %d–%d", s.variant, len(s.key), minKeyLen, maxKeyLen)
	}
	return s, nil
}

// parseBcrypt checks a $2a$, $2b$ or $2y$ hash's shape and cost.
func parseBcrypt(encoded string) (cost int, err error) {
	if len(encoded) != 60 {
		return 0, fmt.Errorf("%w: bcrypt hash of %d characters, want 60", ErrMalformedHash, len(encoded))
	}
	switch encoded[:4] {
	case "$2a$", "$2b$", "$2y$":
	default:
		return 0, fmt.Errorf("%w: bcrypt prefix %q; want $2a$, $2b$ or $2y$", ErrUnsupportedHash, encoded[:4])
	}
	if encoded[6] != '$' {
		return 0, fmt.Errorf("%w: bcrypt cost is not two digits", ErrMalformedHash)
	}
	cost, err = bcrypt.Cost([]byte(encoded))
	if err != nil {
		return 0, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
	}
	if cost > MaxBcryptCost {
		return 0, fmt.Errorf("%w: bcrypt cost %d is above %d", ErrUnsupportedHash, cost, MaxBcryptCost)
	}
	return cost, nil
}

func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return b
}

// MaxImportedBcryptCost is the highest bcrypt cost CheckImported accepts
// (about 0.5 s per check on a 2020s core).
const MaxImportedBcryptCost = 13

// ErrTooCostly means an imported hash would cost more per sign-in than the
// Hasher lets one account take (CheckImported).
var ErrTooCostly = errors.New("password hash too costly")

// CheckImported checks a hash an operator imports (the admin API, the
// CLI): well-formed, as Verify accepts, and affordable. The limits that
// Verify applies to any stored hash (1 GiB, t=100) stop only absurd data;
// an imported hash near them would let one account's sign-ins occupy the
// whole pool (issue 10, finding 9). So an Argon2 hash may use at most half
// the pool's memory (and at least the current parameters' memory is always
// allowed) and at most eight times the current parameters' work
// (memory × passes), and bcrypt at most cost MaxImportedBcryptCost. With
// a 128 MiB pool and m=19 MiB t=2 that admits RFC 9106's second
// recommendation (m=64 MiB t=3) and refuses its first (m=2 GiB); the
// default pool (one hash per core, 38 MiB on 2 cores) admits m ≤ 19 MiB,
// so importing m=64 MiB hashes needs hash_memory_limit_mib ≥ 128.
func (h *Hasher) CheckImported(encoded string) error {
	if strings.HasPrefix(encoded, "$2") {
		cost, err := parseBcrypt(encoded)
		if err != nil {
			return err
		}
		if cost > MaxImportedBcryptCost {
			return fmt.Errorf("%w: bcrypt cost %d is above %d", ErrTooCostly, cost, MaxImportedBcryptCost)
		}
		return nil
	}
	s, err := parseArgon2(encoded)
	if err != nil {
		return err
	}
	maxMem := max(int64(h.params.Memory), h.limit/1024/2)
	if int64(s.memory) > maxMem {
		return fmt.Errorf("%w: m=%d KiB is above %d KiB (half the hashing pool)", ErrTooCostly, s.memory, maxMem)
	}
	maxWork := 8 * int64(h.params.Memory) * int64(h.params.Time)
	if work := int64(s.memory) * int64(s.time); work > maxWork {
		return fmt.Errorf("%w: m×t=%d is above 8× the current parameters' %d", ErrTooCostly, work, maxWork/8)
	}
	return nil
}
