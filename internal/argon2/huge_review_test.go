package argon2

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestReviewKeptMemoryLeavesNoHugePageAdvice (review of issue 12): a kept
// Memory's blocks are Go heap memory, which goes back to the heap when the
// Memory is dropped (password.memories drops them after a minute without a
// hash). Advice given with madvise(MADV_HUGEPAGE) stays on the address
// range after that, and khugepaged (max_ptes_none 511 by default) then
// collapses every 2 MiB of it that holds any live object into a resident
// huge page: measured on the review VM, 58 live 8 KiB objects left in the
// former range of three dropped 19 MiB Memories became 55 MiB of RSS
// within 40 s (1.1 MiB without the advice), memory the runtime counts as
// returned, so GOMEMLIMIT (cmd/portvakt tuneMemory) no longer bounds RSS.
// So no hash memory may carry the advice (VmFlags "hg").
func TestReviewKeptMemoryLeavesNoHugePageAdvice(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmFlags are Linux's")
	}
	var mem Memory
	IDKey(&mem, []byte("pw"), []byte("0123456789abcdef"), 1, 19456, 1, 32)
	flags, err := vmFlags(uintptr(unsafe.Pointer(&mem.blocks[0])))
	if err != nil {
		t.Skipf("no VmFlags: %v", err)
	}
	if strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the kept Memory's mapping is advised MADV_HUGEPAGE (VmFlags: %s): once dropped, khugepaged makes the heap that reuses it resident in 2 MiB pages", flags)
	}
	runtime.KeepAlive(&mem)
}

// vmFlags returns the VmFlags of the mapping in /proc/self/smaps that
// holds addr.
func vmFlags(addr uintptr) (string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", err
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
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), nil
		}
	}
	return "", fmt.Errorf("no mapping holds %#x", addr)
}
