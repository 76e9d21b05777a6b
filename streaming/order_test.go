package streaming

import "testing"

// TestWindowRunMatchesSource checks windowRun against source() index by
// index, across split modes, padding and window sizes.
func TestWindowRunMatchesSource(t *testing.T) {
	rows := []int64{37, 5, 60, 1}
	for _, window := range []int64{1, 7, 16, 200} {
		for _, elastic := range []bool{false, true} {
			for _, pad := range []bool{false, true} {
				for _, total := range []int64{1, 3, 4} {
					for c := range total {
						p := newPlan(rows, true, 5, window, 2, c, total, elastic, pad, 0)
						ref := newPlan(rows, true, 5, window, 2, c, total, elastic, pad, 0)
						for i := int64(0); i < p.count; {
							w, offs := p.windowRun(i, 9)
							if len(offs) == 0 {
								t.Fatalf("window %d elastic %v pad %v consumer %d/%d: empty run at %d", window, elastic, pad, c, total, i)
							}
							for j, o := range offs {
								want := ref.source(ref.global(i + int64(j)))
								if got := w*window + o; got != want {
									t.Fatalf("window %d elastic %v pad %v consumer %d/%d: index %d is row %d, want %d",
										window, elastic, pad, c, total, i+int64(j), got, want)
								}
							}
							i += int64(len(offs))
						}
					}
				}
			}
		}
	}
}
