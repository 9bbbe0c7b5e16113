// Copyright 2017 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package argon2

import (
	"encoding/binary"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// The Argon2 version implemented by this package.
const Version = 0x13

const (
	argon2d = iota
	argon2i
	argon2id
)

// Memory is the working memory of one hash, kept to be used again: a
// password server computing a hash at the same parameters all day would
// otherwise allocate (and have the runtime zero, collect and return to
// the system) m KiB per hash. The zero value is ready to use; a Memory
// grows to the largest m it has been used for. A Memory must not be used
// by two hashes at once.
type Memory struct {
	blocks []block
}

// Size returns the bytes of block memory m holds (0 for nil).
func (m *Memory) Size() int64 {
	if m == nil {
		return 0
	}
	return int64(cap(m.blocks)) * blockLength * 8
}

// MemoryFor returns the bytes of block memory a hash with memory m KiB and
// threads lanes works in: m rounded down to a multiple of 4 × threads
// blocks of 1 KiB, and at least 8 × threads blocks, as RFC 9106 §3.2 has
// it. A Memory used for such a hash holds that much.
func MemoryFor(memory uint32, threads uint8) int64 {
	return int64(blocksFor(memory, uint32(threads))) * blockLength * 8
}

func blocksFor(memory, threads uint32) uint32 {
	memory = memory / (syncPoints * threads) * (syncPoints * threads)
	if memory < 2*syncPoints*threads {
		memory = 2 * syncPoints * threads
	}
	return memory
}

func (m *Memory) take(n uint32) []block {
	if m == nil {
		return make([]block, n)
	}
	if uint32(cap(m.blocks)) < n {
		m.blocks = make([]block, n)
	}
	return m.blocks[:n]
}

// Key derives a key with Argon2i (RFC 9106, version 0x13), as
// golang.org/x/crypto/argon2.Key does, in mem's memory (nil: fresh memory
// for this call). The time and threads parameters must be at least 1.
func Key(mem *Memory, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	return deriveKey(mem, argon2i, password, salt, nil, nil, time, memory, threads, keyLen)
}

// IDKey derives a key with Argon2id (RFC 9106, version 0x13), as
// golang.org/x/crypto/argon2.IDKey does, in mem's memory (nil: fresh
// memory for this call). The time and threads parameters must be at
// least 1.
func IDKey(mem *Memory, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	return deriveKey(mem, argon2id, password, salt, nil, nil, time, memory, threads, keyLen)
}

func deriveKey(mem *Memory, mode int, password, salt, secret, data []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	if time < 1 {
		panic("argon2: number of rounds too small")
	}
	if threads < 1 {
		panic("argon2: parallelism degree too low")
	}
	h0 := initHash(password, salt, secret, data, time, memory, uint32(threads), keyLen, mode)

	memory = blocksFor(memory, uint32(threads))
	B := initBlocks(mem.take(memory), &h0, memory, uint32(threads))
	processBlocks(B, time, memory, uint32(threads), mode)
	return extractKey(B, memory, uint32(threads), keyLen)
}

const (
	blockLength = 128
	syncPoints  = 4
)

type block [blockLength]uint64

func initHash(password, salt, key, data []byte, time, memory, threads, keyLen uint32, mode int) [blake2b.Size + 8]byte {
	var (
		h0     [blake2b.Size + 8]byte
		params [24]byte
		tmp    [4]byte
	)

	b2, _ := blake2b.New512(nil)
	binary.LittleEndian.PutUint32(params[0:4], threads)
	binary.LittleEndian.PutUint32(params[4:8], keyLen)
	binary.LittleEndian.PutUint32(params[8:12], memory)
	binary.LittleEndian.PutUint32(params[12:16], time)
	binary.LittleEndian.PutUint32(params[16:20], uint32(Version))
	binary.LittleEndian.PutUint32(params[20:24], uint32(mode))
	b2.Write(params[:])
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(password)))
	b2.Write(tmp[:])
	b2.Write(password)
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(salt)))
	b2.Write(tmp[:])
	b2.Write(salt)
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(key)))
	b2.Write(tmp[:])
	b2.Write(key)
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(data)))
	b2.Write(tmp[:])
	b2.Write(data)
	b2.Sum(h0[:0])
	return h0
}

// initBlocks writes the first two blocks of each lane into B (of length
// memory); every other block is written by processBlocks' first pass
// before it is read, so B need not be zeroed.
func initBlocks(B []block, h0 *[blake2b.Size + 8]byte, memory, threads uint32) []block {
	var block0 [1024]byte
	for lane := uint32(0); lane < threads; lane++ {
		j := lane * (memory / threads)
		binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], lane)

		binary.LittleEndian.PutUint32(h0[blake2b.Size:], 0)
		blake2bHash(block0[:], h0[:])
		for i := range B[j+0] {
			B[j+0][i] = binary.LittleEndian.Uint64(block0[i*8:])
		}

		binary.LittleEndian.PutUint32(h0[blake2b.Size:], 1)
		blake2bHash(block0[:], h0[:])
		for i := range B[j+1] {
			B[j+1][i] = binary.LittleEndian.Uint64(block0[i*8:])
		}
	}
	return B
}

func processBlocks(B []block, time, memory, threads uint32, mode int) {
	lanes := memory / threads
	segments := lanes / syncPoints

	processSegment := func(n, slice, lane uint32, wg *sync.WaitGroup) {
		var addresses, in, zero block
		if mode == argon2i || (mode == argon2id && n == 0 && slice < syncPoints/2) {
			in[0] = uint64(n)
			in[1] = uint64(lane)
			in[2] = uint64(slice)
			in[3] = uint64(memory)
			in[4] = uint64(time)
			in[5] = uint64(mode)
		}

		index := uint32(0)
		if n == 0 && slice == 0 {
			index = 2 // we have already generated the first two blocks
			if mode == argon2i || mode == argon2id {
				in[6]++
				processBlock(&addresses, &in, &zero)
				processBlock(&addresses, &addresses, &zero)
			}
		}

		offset := lane*lanes + slice*segments + index
		var random uint64
		for index < segments {
			prev := offset - 1
			if index == 0 && slice == 0 {
				prev += lanes // last block in lane
			}
			if mode == argon2i || (mode == argon2id && n == 0 && slice < syncPoints/2) {
				if index%blockLength == 0 {
					in[6]++
					processBlock(&addresses, &in, &zero)
					processBlock(&addresses, &addresses, &zero)
				}
				random = addresses[index%blockLength]
			} else {
				random = B[prev][0]
			}
			newOffset := indexAlpha(random, lanes, segments, threads, n, slice, lane, index)
			// The first pass writes each block (RFC 9106 §3.2, step 5);
			// later passes XOR into it (step 6). golang.org/x/crypto XORs
			// in the first pass too, into freshly zeroed memory; writing
			// lets a Memory be used again without zeroing it.
			if n == 0 {
				processBlock(&B[offset], &B[prev], &B[newOffset])
			} else {
				processBlockXOR(&B[offset], &B[prev], &B[newOffset])
			}
			index, offset = index+1, offset+1
		}
		wg.Done()
	}

	for n := uint32(0); n < time; n++ {
		for slice := uint32(0); slice < syncPoints; slice++ {
			var wg sync.WaitGroup
			for lane := uint32(0); lane < threads; lane++ {
				wg.Add(1)
				go processSegment(n, slice, lane, &wg)
			}
			wg.Wait()
		}
	}

}

func extractKey(B []block, memory, threads, keyLen uint32) []byte {
	lanes := memory / threads
	for lane := uint32(0); lane < threads-1; lane++ {
		for i, v := range B[(lane*lanes)+lanes-1] {
			B[memory-1][i] ^= v
		}
	}

	var block [1024]byte
	for i, v := range B[memory-1] {
		binary.LittleEndian.PutUint64(block[i*8:], v)
	}
	key := make([]byte, keyLen)
	blake2bHash(key, block[:])
	return key
}

func indexAlpha(rand uint64, lanes, segments, threads, n, slice, lane, index uint32) uint32 {
	refLane := uint32(rand>>32) % threads
	if n == 0 && slice == 0 {
		refLane = lane
	}
	m, s := 3*segments, ((slice+1)%syncPoints)*segments
	if lane == refLane {
		m += index
	}
	if n == 0 {
		m, s = slice*segments, 0
		if slice == 0 || lane == refLane {
			m += index
		}
	}
	if index == 0 || lane == refLane {
		m--
	}
	return phi(rand, uint64(m), uint64(s), refLane, lanes)
}

func phi(rand, m, s uint64, lane, lanes uint32) uint32 {
	p := rand & 0xFFFFFFFF
	p = (p * p) >> 32
	p = (p * m) >> 32
	return lane*lanes + uint32((s+m-(p+1))%uint64(lanes))
}
