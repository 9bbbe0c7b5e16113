package throttle

import (
	"context"
	"fmt"
)

// Count is the current number of failures on k (0 when its window has
// passed). It reads only; the captcha policy uses it to ask a challenge
// after some failures (issue 10).
func (t *Throttle) Count(ctx context.Context, k Key) (int, error) {
	if k.ID == "" {
		return 0, nil
	}
	n, _, err := t.Counters.Failures(ctx, k.name(), t.now(), k.Rule.window())
	if err != nil {
		return 0, fmt.Errorf("throttle: %w", err)
	}
	return n, nil
}
