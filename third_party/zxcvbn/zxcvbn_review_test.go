package zxcvbn

import (
	"fmt"
	"sync"
	"testing"
)

// TestReviewFirstUseInParallel: the lists, graphs and patterns built on
// first use are built once when many strength checks start together, and
// every check scores as a later one does (run with -race).
func TestReviewFirstUseInParallel(t *testing.T) {
	pws := []string{"correcthorsebatterystaple", "P@ssw0rd1984", "qwertyuiop", "Jennifer2019!", "zxcvbn", "aaaaaaaaaa", "01/02/1999x", "abcdefg123", "Tr0ub4dor&3", "kari.nordmann"}
	type out struct {
		score   int
		guesses float64
	}
	got := make([][]out, 16)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range got {
		g := g // go 1.21 module: one g per loop
		wg.Go(func() {
			<-start
			for _, pw := range pws {
				r := PasswordStrength(pw, []string{"kari", "nordmann"})
				got[g] = append(got[g], out{r.Score, r.Guesses})
			}
		})
	}
	close(start)
	wg.Wait()
	for i, pw := range pws {
		r := PasswordStrength(pw, []string{"kari", "nordmann"})
		for g := range got {
			if got[g][i] != (out{r.Score, r.Guesses}) {
				t.Errorf("%q: goroutine %d scored %v, a later check %v", pw, g, got[g][i], fmt.Sprint(r.Score, r.Guesses))
			}
		}
	}
}
