package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of a Sealer key: 32 bytes, for AES-256.
const KeySize = 32

// sealVersion is the first byte of every sealed value. It names the key
// and the format, so that a future keyring can hold old keys for opening
// while it seals with a new one.
const sealVersion byte = 1

// ErrOpen is returned (possibly wrapped) by Sealer.Open for any value it
// cannot open: truncated, tampered with, sealed under another key or with
// other associated data, or of an unknown version. The causes are not told
// apart on purpose; for the operator they all mean "this value is not
// ours or is damaged".
var ErrOpen = errors.New("cannot open sealed value (wrong key or associated data, or damaged)")

// Sealer encrypts and authenticates small values with AES-256-GCM. Create
// one with NewSealer; the zero Sealer is not usable. A Sealer is safe for
// concurrent use.
type Sealer struct {
	aead cipher.AEAD // prepends a random 96-bit nonce on Seal
}

// NewSealer returns a Sealer for key, which must be exactly KeySize bytes
// (see ParseKey and LoadOrCreateKey). The key is not retained beyond the
// AES key schedule, so the caller may overwrite it afterwards.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealer key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealer key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("sealer key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Overhead is how many bytes Seal adds to the plaintext: the version byte,
// the nonce and the tag (1 + 12 + 16).
func (s *Sealer) Overhead() int { return 1 + s.aead.Overhead() }

// Seal encrypts plaintext and returns version || nonce || ciphertext || tag,
// len(plaintext)+Overhead() bytes. associatedData is authenticated but not
// encrypted or included: Open must be given the same bytes. Use it to bind
// the value to its place, e.g. "totp-seed:" plus the account ID. Each call
// uses a fresh random nonce, so sealing the same plaintext twice gives
// different results.
func (s *Sealer) Seal(plaintext, associatedData []byte) []byte {
	out := make([]byte, 1, s.Overhead()+len(plaintext))
	out[0] = sealVersion
	return s.aead.Seal(out, nil, plaintext, withVersion(sealVersion, associatedData))
}

// Open checks and decrypts a value made by Seal with the same key and
// associatedData, and returns the plaintext in a new slice. Any failure,
// including input too short to hold a version, nonce and tag, returns an
// error wrapping ErrOpen; Open never panics on malformed input.
func (s *Sealer) Open(sealed, associatedData []byte) ([]byte, error) {
	if len(sealed) < s.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrOpen, len(sealed))
	}
	if v := sealed[0]; v != sealVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrOpen, v)
	}
	plaintext, err := s.aead.Open(nil, nil, sealed[1:], withVersion(sealed[0], associatedData))
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}

// withVersion returns v || ad, the additional data GCM authenticates, so
// that the version byte cannot be changed without detection. The version
// has a fixed length, so the concatenation is unambiguous.
func withVersion(v byte, ad []byte) []byte {
	out := make([]byte, 0, 1+len(ad))
	out = append(out, v)
	return append(out, ad...)
}

// ParseKey decodes a Sealer key from base64 text, as found in the
// configuration file or an environment variable. It accepts the standard
// and the URL-safe alphabet, with or without padding, and ignores
// surrounding white space. It returns an error unless the text decodes to
// exactly KeySize bytes; the error never repeats the text.
//
// A key can be made with
//
//	head -c 32 /dev/urandom | base64
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("key is empty")
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("key is %d bytes, want %d (make one with: head -c 32 /dev/urandom | base64)", len(key), KeySize)
		}
		return key, nil
	}
	return nil, errors.New("key is not base64 (standard or URL-safe alphabet, padded or not)")
}

// LoadOrCreateKey returns the Sealer key stored in the file at path, as
// base64 text (see ParseKey). If the file does not exist, it creates it
// (and any missing parent directories, mode 0700) with a new random key,
// mode 0600, and returns that key; this is how a zero-config SQLite
// deployment gets its key on first start. The file is written in full
// under a temporary name and then linked into place, so a concurrent
// caller, or a crash, never sees a partial key, and two processes starting
// at once end up with the same key. An existing file is never overwritten:
// if it holds no valid key, LoadOrCreateKey returns an error naming the
// path, because replacing it would make every value sealed under the old
// key unreadable.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	key = make([]byte, KeySize)
	rand.Read(key) // never returns an error (crypto/rand, Go 1.24+)

	// CreateTemp makes the file with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path) // another process created it first
		}
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	syncDir(dir)
	return key, nil
}

// readKeyFile reads and parses the key file at path. A missing file gives
// an error for which errors.Is(err, fs.ErrNotExist) holds.
func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

// syncDir makes a new directory entry durable where the platform allows
// it. It is best effort: the key itself was already synced, and some
// platforms cannot sync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
