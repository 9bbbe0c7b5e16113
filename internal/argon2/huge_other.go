//go:build !linux

package argon2

// adviseHuge is a no-op where transparent huge pages are not asked for
// with madvise (see huge_linux.go).
func adviseHuge([]block) {}
