package recycle

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestAllocatorSizesAndBound(t *testing.T) {
	a := New(1 << 20)
	tests := []struct{ size, cap int }{{0, 64}, {1, 64}, {64, 64}, {65, 80}, {100, 112}, {128, 128}, {129, 160},
		{4096, 4096}, {4097, 5120}, {40 << 20, 40 << 20}, {40<<20 + 1, 48 << 20}}
	for _, tt := range tests {
		b := a.Allocate(tt.size)
		if len(b) != tt.size || cap(b) != tt.cap {
			t.Errorf("Allocate(%d): len %d cap %d, want len %d cap %d", tt.size, len(b), cap(b), tt.size, tt.cap)
		}
		a.Free(b)
	}
	a.Free(make([]byte, 100)) // not a class size: dropped
	for c := range numClasses {
		if got := sizeClass(classSize(c)); got != c {
			t.Fatalf("sizeClass(classSize(%d) = %d) = %d", c, classSize(c), got)
		}
		if c > 0 && sizeClass(classSize(c-1)+1) != c {
			t.Fatalf("sizeClass(%d) != %d", classSize(c-1)+1, c)
		}
	}
	a.Free(make([]byte, 2<<20)) // beyond the bound: dropped
	if a.Held() > 1<<20 {
		t.Fatalf("holds %d bytes, bound %d", a.Held(), 1<<20)
	}
}

func TestAllocatorReuses(t *testing.T) {
	a := New(1 << 20)
	b := a.Allocate(900)
	p := &b[:cap(b)][cap(b)-1]
	a.Free(b)
	if a.Held() != 1024 {
		t.Fatalf("holds %d bytes after one free of 1024, want 1024", a.Held())
	}
	if b := a.Allocate(1025); cap(b) == 1024 {
		t.Fatal("a buffer of a smaller class was handed out")
	}
	c := a.AllocateUnzeroed(900)
	if &c[:cap(c)][cap(c)-1] != p {
		t.Fatal("a freed buffer of the same class was not reused")
	}
	if a.Held() != 0 {
		t.Fatalf("holds %d bytes after reuse, want 0", a.Held())
	}
}

func TestAllocateClearsReusedMemory(t *testing.T) {
	a := New(1 << 20)
	dirty := func(b []byte) {
		b = b[:cap(b)]
		for i := range b {
			b[i] = 0xff
		}
	}
	for range 3 {
		b := a.AllocateUnzeroed(64)
		dirty(b)
		a.Free(b)
		b = a.Allocate(64)
		for i, x := range b {
			if x != 0 {
				t.Fatalf("Allocate handed out dirty byte %d", i)
			}
		}
		a.Free(b)
	}
	// Growing within capacity clears the new bytes too.
	b := a.AllocateUnzeroed(200)
	dirty(b)
	b = a.Reallocate(250, b[:10])
	for i, x := range b[10:] {
		if x != 0 {
			t.Fatalf("Reallocate left dirty byte %d", 10+i)
		}
	}
	// Growing beyond capacity copies.
	b[0] = 9
	b = a.Reallocate(5000, b)
	if len(b) != 5000 || b[0] != 9 || b[4999] != 0 {
		t.Fatalf("Reallocate(5000): len %d first %d last %d", len(b), b[0], b[4999])
	}
}

func TestForKeepsCallerAllocators(t *testing.T) {
	if For(memory.DefaultAllocator) != Default || For(nil) != Default {
		t.Fatal("For(default) is not the recycling allocator")
	}
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	if For(checked) != checked {
		t.Fatal("For replaced a caller-supplied allocator")
	}
	// AllocateUnzeroed falls back to Allocate for other allocators.
	b := AllocateUnzeroed(checked, 10)
	if len(b) != 10 {
		t.Fatalf("len %d", len(b))
	}
	checked.Free(b)
	checked.AssertSize(t, 0)
}

func TestAllocatorConcurrent(t *testing.T) {
	a := New(1 << 16)
	done := make(chan bool)
	for g := range 4 {
		go func() {
			for i := range 2000 {
				b := a.AllocateUnzeroed(64 << (i % 6))
				b[0] = byte(g)
				a.Free(b)
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
	if a.Held() > 1<<16 {
		t.Fatalf("holds %d bytes, bound %d", a.Held(), 1<<16)
	}
}
