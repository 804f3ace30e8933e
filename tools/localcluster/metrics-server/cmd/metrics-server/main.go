// Command metrics-server is metrics-server's own entry point (sigs.k8s.io/metrics-server/cmd/metrics-server
// v0.8.0, Apache-2.0), built from the pinned module. The local control plane registers it as
// v1beta1.metrics.k8s.io; it scrapes the resource metrics kwok emulates for its nodes.

package main

import (
	"os"
	"runtime"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/logs"

	"sigs.k8s.io/metrics-server/cmd/metrics-server/app"
)

func main() {
	logs.InitLogs()
	defer logs.FlushLogs()

	if len(os.Getenv("GOMAXPROCS")) == 0 {
		runtime.GOMAXPROCS(runtime.NumCPU())
	}

	cmd := app.NewMetricsServerCommand(genericapiserver.SetupSignalHandler())
	if err := cmd.Execute(); err != nil {
		panic(err)
	}
}
