package idl

import (
	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest"
)

var moduleRoot = fixturestest.ModuleRoot

var sharedFixture = fixturestest.Shared

var repoFile = fixturestest.RepoFile
