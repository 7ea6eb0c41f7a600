namespace HierRec.Tests;

public sealed class RefCountedTests
{
    private sealed class Counted : IDisposable
    {
        public int Disposals;
        public void Dispose() => Disposals++;
    }

    [Fact]
    public void TheValue_IsDisposedOnce_WhenTheOwnerAndEveryReaderHaveLetGo()
    {
        var value = new Counted();
        var shared = new RefCounted<Counted>(value);
        int notified = 0;
        shared.Disposed = () => notified++;
        Assert.True(shared.TryHold());
        Assert.True(shared.TryHold());
        shared.ReleaseOwner();
        shared.ReleaseOwner(); // only the first counts
        Assert.False(shared.IsDisposed);
        shared.Release();
        Assert.Equal(0, value.Disposals);
        shared.Release();
        Assert.Equal(1, value.Disposals);
        Assert.Equal(1, notified);
        Assert.True(shared.IsDisposed);
        Assert.False(shared.TryHold()); // too late: read the owner's current value again
        Assert.Throws<InvalidOperationException>(shared.Release);
        Assert.Equal(1, value.Disposals);
    }

    [Fact]
    public async Task ConcurrentReaders_NeverHoldADisposedValue()
    {
        for (int round = 0; round < 200; round++)
        {
            var value = new Counted();
            var shared = new RefCounted<Counted>(value);
            int heldAfterDisposal = 0;
            var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                for (int k = 0; k < 200; k++)
                {
                    if (!shared.TryHold()) return;
                    if (value.Disposals > 0) Interlocked.Increment(ref heldAfterDisposal);
                    shared.Release();
                }
            })).ToArray();
            shared.ReleaseOwner();
            await Task.WhenAll(readers);
            Assert.Equal(0, heldAfterDisposal);
            Assert.Equal(1, value.Disposals);
        }
    }
}
