package argon2

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks Linux to back a kept Memory's blocks with transparent
// huge pages (madvise MADV_HUGEPAGE; most distributions enable them only
// where asked, "madvise" in /sys/kernel/mm/transparent_hugepage/enabled).
//
// Argon2 reads a pseudo-random earlier block for every block it computes,
// anywhere in m KiB: at the defaults 19 MiB, 4,864 pages of 4 KiB, more
// than a core's TLB holds, so most such reads also walk the page tables
// (in a VM, the guest's and the host's). Ten 2 MiB pages cover it. On the
// 2-core VM of docs/benchmarks.md a hash took 2 % less time (25.7 against
// 26.2 ms, 8 alternating runs of 30 hashes each); inside the busy server
// the difference was smaller than that VM's run-to-run noise.
//
// Best effort: a kernel without transparent huge pages, or memory the
// runtime has already touched, just keeps 4 KiB pages. Only memory the
// kernel has not yet faulted in (a fresh span) gets huge pages at once.
func adviseHuge(b []block) {
	if len(b) == 0 {
		return
	}
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), len(b)*blockLength*8)
	_ = syscall.Madvise(mem, madvHugepage)
}

const madvHugepage = 14 // MADV_HUGEPAGE, not in package syscall
