package testenv

import (
	"go.uber.org/zap/zaptest"

	"github.com/askbridge/askbridge/internal/localserver"
)

// TB is the part of testing.TB that a world uses; *testing.T and
// *testing.B satisfy it. (An interface keeps the testing package out of
// the load generator, which uses StartServer.)
type TB interface {
	localserver.TB
	zaptest.TestingT
}
