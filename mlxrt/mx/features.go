package mx

import "github.com/ominix/ominix-api/mlxrt/mx/internal/kernel"

func kernelFeatures() string { return kernel.Features() }
