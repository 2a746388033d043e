// Package sha2 is SHA-256 (FIPS 180-4) in plain Go, without crypto/*.
//
// The browser client is Go compiled to WebAssembly, and crypto/sha256
// brings the FIPS 140 module along with it (about 80 KB gzip). The store
// only hashes names into ids ([store.AttrIDFor], [store.LookupEntityID]),
// where nothing is secret and speed barely matters, so it uses this small
// copy instead. The digests are those of crypto/sha256, byte for byte.
package sha2

import (
	"encoding/binary"
	"math/bits"
)

// Size is the length of a SHA-256 digest in bytes.
const Size = 32

// BlockSize is SHA-256's block length in bytes.
const BlockSize = 64

var k = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

var initial = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// Digest is a running SHA-256 hash. The zero Digest is not ready: use [New]
// (or call Reset).
type Digest struct {
	h   [8]uint32
	x   [BlockSize]byte // a partial block
	nx  int             // bytes in x
	len uint64          // bytes written
}

// New returns a Digest ready to hash.
func New() *Digest {
	d := new(Digest)
	d.Reset()
	return d
}

// Reset makes d hash from the start again.
func (d *Digest) Reset() {
	d.h = initial
	d.nx = 0
	d.len = 0
}

// Size returns [Size].
func (d *Digest) Size() int { return Size }

// BlockSize returns [BlockSize].
func (d *Digest) BlockSize() int { return BlockSize }

// Write adds p to the hash. It never fails: n is len(p), err is nil.
func (d *Digest) Write(p []byte) (n int, err error) {
	n = len(p)
	d.len += uint64(n)
	if d.nx > 0 {
		c := copy(d.x[d.nx:], p)
		d.nx += c
		p = p[c:]
		if d.nx < BlockSize {
			return n, nil
		}
		block(&d.h, d.x[:])
		d.nx = 0
	}
	if len(p) >= BlockSize {
		m := len(p) &^ (BlockSize - 1)
		block(&d.h, p[:m])
		p = p[m:]
	}
	d.nx = copy(d.x[:], p)
	return n, nil
}

// Sum appends the hash of what was written so far to b and returns it. It
// does not change d: writing may go on.
func (d *Digest) Sum(b []byte) []byte {
	c := *d
	s := c.sum()
	return append(b, s[:]...)
}

// sum pads and finishes d, returning the digest; d is spent.
func (d *Digest) sum() [Size]byte {
	n := d.len
	// Padding: 0x80, zeros to 56 mod 64, the length in bits, big-endian.
	var pad [BlockSize + 8]byte
	pad[0] = 0x80
	m := 56 - int(n%BlockSize) // 0x80 and the zeros
	if m <= 0 {
		m += BlockSize
	}
	binary.BigEndian.PutUint64(pad[m:], n<<3)
	d.Write(pad[:m+8])
	var out [Size]byte
	for i, v := range d.h {
		binary.BigEndian.PutUint32(out[4*i:], v)
	}
	return out
}

// Sum256 returns the SHA-256 digest of b.
func Sum256(b []byte) [Size]byte {
	var d Digest
	d.Reset()
	d.Write(b)
	return d.sum()
}

// block hashes whole blocks of p into h.
func block(h *[8]uint32, p []byte) {
	var w [64]uint32
	h0, h1, h2, h3, h4, h5, h6, h7 := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for len(p) >= BlockSize {
		for i := 0; i < 16; i++ {
			w[i] = binary.BigEndian.Uint32(p[4*i:])
		}
		for i := 16; i < 64; i++ {
			v1 := w[i-2]
			t1 := bits.RotateLeft32(v1, -17) ^ bits.RotateLeft32(v1, -19) ^ (v1 >> 10)
			v2 := w[i-15]
			t2 := bits.RotateLeft32(v2, -7) ^ bits.RotateLeft32(v2, -18) ^ (v2 >> 3)
			w[i] = t1 + w[i-7] + t2 + w[i-16]
		}
		a, b, c, d, e, f, g, hh := h0, h1, h2, h3, h4, h5, h6, h7
		for i := 0; i < 64; i++ {
			t1 := hh + (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) +
				((e & f) ^ (^e & g)) + k[i] + w[i]
			t2 := (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) +
				((a & b) ^ (a & c) ^ (b & c))
			hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
		}
		h0 += a
		h1 += b
		h2 += c
		h3 += d
		h4 += e
		h5 += f
		h6 += g
		h7 += hh
		p = p[BlockSize:]
	}
	h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7] = h0, h1, h2, h3, h4, h5, h6, h7
}
