//go:build tools

// Package tools pins the kwok command the test rig builds.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
