package extract

import (
	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest"
)

var sharedFixture = fixturestest.Shared
