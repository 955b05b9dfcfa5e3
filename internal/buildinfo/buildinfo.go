// Package buildinfo reports the version of the running binary: the value injected at release time
// with -ldflags "-X .../internal/buildinfo.version=v1.2.3", or the module version Go recorded.
package buildinfo

import "runtime/debug"

// version is set by the release build (see .goreleaser.yaml).
var version = ""

// Version returns the release version, the module version from the build info, or "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Commit returns the VCS revision recorded at build time, or "".
func Commit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return ""
}
