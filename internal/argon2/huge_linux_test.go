package argon2

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestKeptMemoryUsesHugePages checks that a kept Memory's blocks are
// backed by transparent huge pages where the kernel offers them on
// madvise (huge_linux.go). It runs the hash in a child process, so that
// the 19 MiB are the process's first big allocation and have not been
// touched before the advice (memory the runtime zeroed first keeps its
// 4 KiB pages until khugepaged merges them, which no test can wait for).
func TestKeptMemoryUsesHugePages(t *testing.T) {
	if os.Getenv("ARGON2_HUGE_CHILD") == "1" {
		var mem Memory
		IDKey(&mem, []byte("pw"), []byte("0123456789abcdef"), 2, 19456, 1, 32)
		kb, err := anonHugeKiB(uintptr(unsafe.Pointer(&mem.blocks[0])))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("huge=%d\n", kb)
		return
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("this kernel offers no transparent huge pages (%q, %v)", mode, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeptMemoryUsesHugePages$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ARGON2_HUGE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	_, v, ok := strings.Cut(string(out), "huge=")
	if !ok {
		t.Fatalf("child said no huge= line:\n%s", out)
	}
	kb, _ := strconv.Atoi(strings.Fields(v)[0])
	// 19 MiB starting anywhere holds at least 8 aligned 2 MiB pages.
	if kb < 8*2048 {
		t.Errorf("the kept Memory's mapping has %d KiB in huge pages, want at least %d (transparent_hugepage: %s)", kb, 8*2048, strings.TrimSpace(string(mode)))
	}
}

// anonHugeKiB returns AnonHugePages of the mapping in /proc/self/smaps
// that holds addr.
func anonHugeKiB(addr uintptr) (int, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if r, _, ok := strings.Cut(line, " "); ok && strings.Contains(r, "-") && !strings.HasSuffix(r, ":") {
			lo, hi, _ := strings.Cut(r, "-")
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= l && uint64(addr) < h
			continue
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			return strconv.Atoi(strings.Fields(line)[1])
		}
	}
	return 0, fmt.Errorf("no mapping holds %#x", addr)
}
