package store

import (
	"fmt"
	"testing"
)

// BenchmarkStore compares an encrypted and a plain store doing the same work;
// `make bench` prints the encrypted/plain ratio from one run.
func BenchmarkStore(b *testing.B) {
	value := system{ID: "pair", Name: "PROJ-1234 Printer on fire in building 7, third floor"}
	for _, mode := range []string{"plain", "encrypted"} {
		var key []byte
		if mode == "encrypted" {
			key = newKey(b)
		}
		b.Run("put/"+mode, func(b *testing.B) {
			s := create(b, b.TempDir(), key)
			defer s.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Put(fmt.Sprintf("pair/%09d", i), value); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("get/"+mode, func(b *testing.B) {
			s := create(b, b.TempDir(), key)
			defer s.Close()
			const n = 20000
			for start := 0; start < n; start += 1000 {
				s.Update(func(tx *Tx) error {
					for i := start; i < start+1000; i++ {
						if err := tx.Put(fmt.Sprintf("pair/%09d", i), value); err != nil {
							return err
						}
					}
					return nil
				})
			}
			b.ReportAllocs()
			b.ResetTimer()
			var v system
			for i := 0; i < b.N; i++ {
				if err := s.Get(fmt.Sprintf("pair/%09d", i%n), &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
