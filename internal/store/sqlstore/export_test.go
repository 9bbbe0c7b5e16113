package sqlstore

import (
	"context"
	"database/sql"
)

// HoldConns takes n connections from the pool that runs writes (on
// PostgreSQL, the only pool), as a burst of slow requests would, and
// returns a function that gives them back.
func (db *DB) HoldConns(ctx context.Context, n int) (release func(), err error) {
	var held []*sql.Conn
	release = func() {
		for _, c := range held {
			c.Close()
		}
	}
	for range n {
		c, err := db.write.Conn(ctx)
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, c)
	}
	return release, nil
}

// ReadStats returns the statistics of the read pool.
func (db *DB) ReadStats() sql.DBStats { return db.read.Stats() }
