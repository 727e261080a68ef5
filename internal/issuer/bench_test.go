package issuer_test

import (
	"testing"
)

func BenchmarkSignAccess(b *testing.B) {
	for _, alg := range algorithms {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			c := f.accessClaims()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.iss.SignAccess(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyAccess(b *testing.B) {
	for _, alg := range algorithms {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			tok := f.signAccess(b, f.accessClaims())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.iss.VerifyAccess(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSignRefresh(b *testing.B) {
	f := newFixture(b, "HS256")
	c := f.refreshClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.iss.SignRefresh(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRefresh(b *testing.B) {
	f := newFixture(b, "HS256")
	tok := f.signRefresh(b, f.refreshClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.iss.VerifyRefresh(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewID(b *testing.B) {
	f := newFixture(b, "HS256")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.iss.NewID(); err != nil {
			b.Fatal(err)
		}
	}
}
