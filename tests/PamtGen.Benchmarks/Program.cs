using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/PamtGen.Benchmarks -- --filter '*'        (the full run, see docs/PERFORMANCE.md)
// dotnet tests/PamtGen.Benchmarks/bin/Release/net10.0/PamtGen.Benchmarks.dll --filter '*' --job Dry --inProcess   (CI's dry run)
BenchmarkSwitcher.FromAssembly(typeof(PamtGen.Benchmarks.WalkBenchmarks).Assembly).Run(args);
