package secret_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/secret"
)

func newSealer(tb testing.TB, key []byte) *secret.Sealer {
	tb.Helper()
	s, err := secret.NewSealer(key)
	if err != nil {
		tb.Fatalf("NewSealer: %v", err)
	}
	return s
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, secret.KeySize) }

func TestSealer_RoundTrip(t *testing.T) {
	s := newSealer(t, testKey(1))
	ad := []byte("totp-seed:acct1")
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), bytes.Repeat([]byte{0xff}, 4096)} {
		sealed := s.Seal(pt, ad)
		if got, want := len(sealed), len(pt)+s.Overhead(); got != want {
			t.Errorf("len(Seal(%d bytes)) = %d, want %d", len(pt), got, want)
		}
		if s.Overhead() != 29 {
			t.Errorf("Overhead() = %d, want 29 (1 version + 12 nonce + 16 tag)", s.Overhead())
		}
		got, err := s.Open(sealed, ad)
		if err != nil {
			t.Fatalf("Open(Seal(%d bytes)) error: %v", len(pt), err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("Open(Seal(%x)) = %x", pt, got)
		}
		if len(pt) > 4 && bytes.Contains(sealed, pt) {
			t.Errorf("Seal output contains the plaintext")
		}
	}
}

func TestSealer_FreshNonceEachTime(t *testing.T) {
	s := newSealer(t, testKey(1))
	a, b := s.Seal([]byte("same"), nil), s.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("Seal of the same plaintext twice gave identical output; want a fresh nonce")
	}
	if a[0] != 1 || b[0] != 1 {
		t.Errorf("version bytes = %d, %d; want 1", a[0], b[0])
	}
}

func TestSealer_Rejects(t *testing.T) {
	s := newSealer(t, testKey(1))
	ad := []byte("totp-seed:acct1")
	sealed := s.Seal([]byte("the seed"), ad)

	t.Run("a change to any byte, version included, is detected", func(t *testing.T) {
		for i := range sealed {
			for _, flip := range []byte{0x01, 0x80} {
				bad := bytes.Clone(sealed)
				bad[i] ^= flip
				if got, err := s.Open(bad, ad); !errors.Is(err, secret.ErrOpen) {
					t.Errorf("Open with byte %d ^ %#x = %q, %v; want ErrOpen", i, flip, got, err)
				}
			}
		}
	})
	t.Run("wrong associated data", func(t *testing.T) {
		for _, other := range [][]byte{nil, []byte("totp-seed:acct2"), []byte("totp-seed:acct1 "), ad[:len(ad)-1]} {
			if _, err := s.Open(sealed, other); !errors.Is(err, secret.ErrOpen) {
				t.Errorf("Open with AD %q: err = %v, want ErrOpen", other, err)
			}
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		other := newSealer(t, testKey(2))
		if _, err := other.Open(sealed, ad); !errors.Is(err, secret.ErrOpen) {
			t.Errorf("Open under another key: err = %v, want ErrOpen", err)
		}
	})
	t.Run("truncated or extended input, without panicking", func(t *testing.T) {
		for n := range len(sealed) {
			if _, err := s.Open(sealed[:n], ad); !errors.Is(err, secret.ErrOpen) {
				t.Errorf("Open(first %d of %d bytes): err = %v, want ErrOpen", n, len(sealed), err)
			}
		}
		if _, err := s.Open(append(bytes.Clone(sealed), 0), ad); !errors.Is(err, secret.ErrOpen) {
			t.Errorf("Open with a byte appended: err = %v, want ErrOpen", err)
		}
	})
}

func TestNewSealer_KeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := secret.NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer(%d-byte key) error = nil, want an error", n)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(0xf0 + i) // gives + and / in std base64, - and _ in URL base64
	}
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"standard, padded", base64.StdEncoding.EncodeToString(key), true},
		{"standard, unpadded", base64.RawStdEncoding.EncodeToString(key), true},
		{"URL-safe, padded", base64.URLEncoding.EncodeToString(key), true},
		{"URL-safe, unpadded", base64.RawURLEncoding.EncodeToString(key), true},
		{"surrounding white space, as from a file", "  " + base64.StdEncoding.EncodeToString(key) + "\n", true},
		{"empty", "", false},
		{"not base64", "this is not base64 at all!!", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(key[:16]), false},
		{"31 bytes", base64.StdEncoding.EncodeToString(key[:31]), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(bytes.Clone(key), 0)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := secret.ParseKey(tt.in)
			if !tt.ok {
				if err == nil {
					t.Fatalf("ParseKey(%q) = %x, want an error", tt.in, got)
				}
				if tt.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
					t.Errorf("ParseKey error %q repeats the key text", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, key) {
				t.Fatalf("ParseKey(%q) = %x, %v; want %x", tt.in, got, err, key)
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "portvakt.key")

	key, err := secret.LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("first LoadOrCreateKey: %v", err)
	}
	if len(key) != secret.KeySize || bytes.Equal(key, make([]byte, secret.KeySize)) {
		t.Fatalf("first LoadOrCreateKey = %x, want 32 random bytes", key)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file not created: %v", err)
	}
	if runtime.GOOS != "windows" {
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("key file mode = %#o, want 0600", mode)
		}
	}
	b, _ := os.ReadFile(path)
	if fromFile, err := secret.ParseKey(string(b)); err != nil || !bytes.Equal(fromFile, key) {
		t.Errorf("key file holds %q, want the base64 of the returned key", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after creating the key, want 1 (no leftover temporary file)", len(entries))
	}

	again, err := secret.LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("second LoadOrCreateKey: %v", err)
	}
	if !bytes.Equal(again, key) {
		t.Errorf("second LoadOrCreateKey = %x, want the first key %x again", again, key)
	}

	// A value sealed under the first start's key opens after a "restart".
	sealed := newSealer(t, key).Seal([]byte("seed"), nil)
	if _, err := newSealer(t, again).Open(sealed, nil); err != nil {
		t.Errorf("Open under the reloaded key: %v", err)
	}
}

func TestLoadOrCreateKey_NeverOverwritesABadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portvakt.key")
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if key, err := secret.LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadOrCreateKey(bad file) = %x, %v; want an error naming the path", key, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "not a key\n" {
		t.Errorf("bad key file was changed to %q", b)
	}
}

func TestLoadOrCreateKey_ReadsAnOperatorsKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portvakt.key")
	want := testKey(7)
	if err := os.WriteFile(path, []byte(base64.RawURLEncoding.EncodeToString(want)), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := secret.LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("LoadOrCreateKey = %x, %v; want %x", got, err, want)
	}
}
