package sha2

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"math/rand/v2"
	"strings"
	"testing"
)

var _ hash.Hash = (*Digest)(nil)

func TestKnownVectors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
			"cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
		{strings.Repeat("a", 1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
	} {
		got := Sum256([]byte(c.in))
		if hex.EncodeToString(got[:]) != c.want {
			t.Errorf("Sum256(%.20q) = %x, want %s", c.in, got, c.want)
		}
		d := New()
		d.Write([]byte(c.in))
		if s := hex.EncodeToString(d.Sum(nil)); s != c.want {
			t.Errorf("Digest(%.20q) = %s, want %s", c.in, s, c.want)
		}
	}
}

// TestLengths compares every length around the padding boundaries (55, 56,
// 64 and their multiples) with crypto/sha256, whole and in two pieces.
func TestLengths(t *testing.T) {
	buf := make([]byte, 300)
	for i := range buf {
		buf[i] = byte(i*7 + 3)
	}
	for n := 0; n <= len(buf); n++ {
		p := buf[:n]
		want := sha256.Sum256(p)
		if got := Sum256(p); got != want {
			t.Fatalf("Sum256 of %d bytes = %x, want %x", n, got, want)
		}
		for cut := 0; cut <= n; cut += 1 + n/7 {
			d := New()
			d.Write(p[:cut])
			d.Write(p[cut:])
			if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("%d bytes cut at %d = %x, want %x", n, cut, got, want)
			}
		}
	}
}

func TestStreaming(t *testing.T) {
	d := New()
	ref := sha256.New()
	if d.Size() != Size || d.BlockSize() != BlockSize {
		t.Fatal("Size or BlockSize")
	}
	for i := 0; i < 200; i++ {
		p := bytes.Repeat([]byte{byte(i)}, i)
		n, err := d.Write(p)
		if n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		ref.Write(p)
		// Sum does not disturb the running hash and appends to b.
		if got, want := d.Sum([]byte("x")), ref.Sum([]byte("x")); !bytes.Equal(got, want) {
			t.Fatalf("after %d writes: %x, want %x", i, got, want)
		}
	}
	d.Reset()
	if got, want := d.Sum(nil), sha256.Sum256(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("after Reset: %x, want %x", got, want)
	}
	d.Write([]byte("abc"))
	if got, want := d.Sum(nil), sha256.Sum256([]byte("abc")); !bytes.Equal(got, want[:]) {
		t.Fatalf("Reset then abc: %x, want %x", got, want)
	}
}

func TestOneMegabyte(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 1<<20)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	want := sha256.Sum256(p)
	if got := Sum256(p); got != want {
		t.Fatalf("Sum256(1 MB) = %x, want %x", got, want)
	}
	d := New()
	for q := p; len(q) > 0; {
		n := min(len(q), 1+r.IntN(200))
		d.Write(q[:n])
		q = q[n:]
	}
	if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("streamed 1 MB = %x, want %x", got, want)
	}
}

func TestAllocs(t *testing.T) {
	p := make([]byte, 100)
	if n := testing.AllocsPerRun(100, func() { Sum256(p) }); n != 0 {
		t.Errorf("Sum256 allocates %v times", n)
	}
	d := New()
	buf := make([]byte, 0, Size)
	if n := testing.AllocsPerRun(100, func() { d.Reset(); d.Write(p); buf = d.Sum(buf[:0]) }); n != 0 {
		t.Errorf("Reset, Write, Sum allocate %v times", n)
	}
}

// FuzzSum256 compares Sum256 and a Digest fed in chunks of the sizes the
// seed picks with crypto/sha256.
func FuzzSum256(f *testing.F) {
	f.Add([]byte(""), uint64(0))
	f.Add([]byte("abc"), uint64(1))
	f.Add(bytes.Repeat([]byte{'a'}, 55), uint64(2))
	f.Add(bytes.Repeat([]byte{'b'}, 56), uint64(3))
	f.Add(bytes.Repeat([]byte{'c'}, 64), uint64(4))
	f.Add(bytes.Repeat([]byte{'d'}, 200), uint64(5))
	f.Fuzz(func(t *testing.T, p []byte, seed uint64) {
		want := sha256.Sum256(p)
		if got := Sum256(p); got != want {
			t.Fatalf("Sum256 = %x, want %x", got, want)
		}
		r := rand.New(rand.NewPCG(seed, seed>>1))
		d := New()
		for q := p; len(q) > 0; {
			n := min(len(q), r.IntN(2*BlockSize+2))
			d.Write(q[:n])
			q = q[n:]
		}
		if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Fatalf("chunked = %x, want %x", got, want)
		}
	})
}

func benchmarkSum(b *testing.B, n int) {
	p := make([]byte, n)
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		Sum256(p)
	}
}

func benchmarkStd(b *testing.B, n int) {
	p := make([]byte, n)
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		sha256.Sum256(p)
	}
}

func BenchmarkSum256(b *testing.B) {
	b.Run("64B", func(b *testing.B) { benchmarkSum(b, 64) })
	b.Run("1KB", func(b *testing.B) { benchmarkSum(b, 1<<10) })
	b.Run("64KB", func(b *testing.B) { benchmarkSum(b, 64<<10) })
}

// BenchmarkStdSum256 is crypto/sha256 (with its assembly), for comparison.
func BenchmarkStdSum256(b *testing.B) {
	b.Run("64B", func(b *testing.B) { benchmarkStd(b, 64) })
	b.Run("1KB", func(b *testing.B) { benchmarkStd(b, 1<<10) })
	b.Run("64KB", func(b *testing.B) { benchmarkStd(b, 64<<10) })
}

// BenchmarkDigest is the store's use: a short name through New, Write, Sum.
func BenchmarkDigest(b *testing.B) {
	p := []byte("triplesync attribute\x00users\x00email")
	d := New()
	buf := make([]byte, 0, Size)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		d.Reset()
		d.Write(p)
		buf = d.Sum(buf[:0])
	}
}
