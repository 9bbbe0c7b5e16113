package ui

import "github.com/portvakt/portvakt/internal/problem"

// SetProblem puts the user's mistakes on the page. Every page has it
// through Base, so web's form adapter can render any page again with the
// problem of its form.
func (b *Base) SetProblem(p *problem.Problem) { b.Problem = p }
