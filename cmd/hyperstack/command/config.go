package command

// Configuration: every flag of every command is also a configuration key, so one mechanism serves
// flags, HYPERSTACK_* environment variables and the YAML file given with --config.
//
// The key of a flag is the command path below the root joined with dots, then the flag name with
// dashes turned into underscores: `hyperstack record --x-token` is `record.x_token`, the variable
// HYPERSTACK_RECORD_X_TOKEN and, in the file,
//
//	record:
//	  x_token: ...
//
// Root flags are top-level keys (`log_level`, HYPERSTACK_LOG_LEVEL). Precedence, highest first: a flag
// given on the command line, the environment, the file, the flag's default. A key in the file that no
// command knows is an error naming the key. Viper is used only here.

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

const envPrefix = "HYPERSTACK"

// configKey returns the configuration key of flag name on cmd.
func configKey(cmd *cobra.Command, name string) string {
	name = strings.ReplaceAll(name, "-", "_")
	section := configSection(cmd)
	if section == "" {
		return name
	}
	return section + "." + name
}

// configSection is the command path below the root, dot-joined ("inspect.archive").
func configSection(cmd *cobra.Command) string {
	var parts []string
	for c := cmd; c != nil && c.HasParent(); c = c.Parent() {
		parts = append([]string{c.Name()}, parts...)
	}
	return strings.Join(parts, ".")
}

// knownKeys lists every configuration key of the tree under root.
func knownKeys(root *cobra.Command) map[string]bool {
	keys := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalNonPersistentFlags().VisitAll(func(fl *pflag.Flag) {
			keys[configKey(c, fl.Name)] = true
		})
		c.PersistentFlags().VisitAll(func(fl *pflag.Flag) {
			keys[configKey(c, fl.Name)] = true
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	delete(keys, "config")
	delete(keys, "help")
	return keys
}

// loadConfig reads the file (if any) and validates its keys against the command tree.
func loadConfig(root *cobra.Command, path string, getenv func(string) string) (*viper.Viper, error) {
	v := viper.New()
	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	if path == "" {
		path = getenv(envPrefix + "_CONFIG")
	}
	if path == "" {
		return v, nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("read %s: %w", path, err)}
	}
	v.SetConfigFile(path)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("read %s: %w", path, err)}
	}
	known := knownKeys(root)
	var unknown []string
	for _, k := range v.AllKeys() {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &ConfigError{Err: fmt.Errorf("%s: unknown key %q", path, unknown[0])}
	}
	return v, nil
}

// applyConfig gives every flag of cmd (and the root's persistent flags) that was not set on the
// command line the value from the environment or the file, in that order.
func applyConfig(cmd *cobra.Command, v *viper.Viper, getenv func(string) string) error {
	var errs []error
	set := func(owner *cobra.Command, fl *pflag.Flag) {
		if fl.Changed || fl.Name == "help" || fl.Name == "config" {
			return
		}
		key := configKey(owner, fl.Name)
		env := envPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
		var val string
		var from string
		if ev := getenv(env); ev != "" {
			val, from = ev, env
		} else if v.InConfig(key) {
			raw := v.Get(key)
			switch x := raw.(type) {
			case []any:
				parts := make([]string, len(x))
				for i, p := range x {
					parts[i] = fmt.Sprint(p)
				}
				val = strings.Join(parts, ",")
			default:
				val = fmt.Sprint(x)
			}
			from = "config key " + key
		} else {
			return
		}
		if err := fl.Value.Set(val); err != nil {
			errs = append(errs, &ConfigError{Err: fmt.Errorf("%s: invalid value %q for --%s: %w", from, val, fl.Name, err)})
			return
		}
		fl.Changed = true
	}
	cmd.LocalNonPersistentFlags().VisitAll(func(fl *pflag.Flag) { set(cmd, fl) })
	for c := cmd; c != nil; c = c.Parent() {
		c.PersistentFlags().VisitAll(func(fl *pflag.Flag) { set(c, fl) })
	}
	return errors.Join(errs...)
}
