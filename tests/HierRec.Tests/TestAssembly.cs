// Training draws dropout masks from libtorch's global generator (TorchSharp's dropout takes no generator), which the
// training loop seeds at every epoch. Test classes running in parallel would draw from it concurrently and make the
// shared fixtures' models depend on thread timing; run the test classes one after another so every result is
// reproducible.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
