using Batpak.Tests.Projections;
using Batpak.Tests.Reactors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Batpak.Tests.DependencyInjection;

public class ReactorAndProjectionRegistrationTests
{
    private sealed class HostedReserveStock() : Reactor<OrderSubmitted>("hosted-reserve-stock")
    {
        protected override void React(StoredEvent<OrderSubmitted> source, ReactionOutput output) =>
            output.Emit(new StockReserved(source.Event.OrderId, source.Event.Quantity));
    }

    private static IHost BuildHost(string directory)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddBatpak(o => o.DataDirectory = directory)
            .AddReactor<HostedReserveStock>()
            .AddProjections(ProjectionCacheMode.Disk);
        return builder.Build();
    }

    private static async Task<List<StoredEvent<StockReserved>>> WaitForReservations(IEventStore store, string orderId, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            List<StoredEvent<StockReserved>> found = store.Stream<StockReserved>($"stock:{orderId}").ToList();
            if (found.Count >= count)
            {
                return found;
            }

            await Task.Delay(20, timeout.Token);
        }
    }

    [Fact]
    public async Task AddReactor_RunsItAsAHostedService_AndARestartDoesNotReactTwice()
    {
        using var dir = new TempDirectory();
        AppendReceipt first;
        using (IHost host = BuildHost(dir.Path))
        {
            await host.StartAsync();
            IEventStore store = host.Services.GetRequiredService<IEventStore>();
            first = store.Append(new OrderSubmitted("o1", 3));
            StoredEvent<StockReserved> reserved = Assert.Single(await WaitForReservations(store, "o1", 1));
            Assert.Equal(first.EventId, reserved.Header.CausationId);
            await host.StopAsync();
        }

        using (IHost host = BuildHost(dir.Path))
        {
            await host.StartAsync();
            IEventStore store = host.Services.GetRequiredService<IEventStore>();
            store.Append(new OrderSubmitted("o2", 5));
            await WaitForReservations(store, "o2", 1);
            Assert.Single(store.Stream<StockReserved>("stock:o1")); // o1 was not reacted to again
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddProjections_RegistersAnEngineWithTheChosenCache()
    {
        using var dir = new TempDirectory();
        using IHost host = BuildHost(dir.Path);
        await host.StartAsync();
        IEventStore store = host.Services.GetRequiredService<IEventStore>();
        store.Append(new CounterIncremented("c1", 2));
        store.Append(new CounterIncremented("c1", 5));

        ProjectionEngine engine = host.Services.GetRequiredService<ProjectionEngine>();
        Assert.IsType<DiskProjectionCache>(engine.Cache);
        Assert.Same(engine, host.Services.GetRequiredService<ProjectionEngine>());
        Assert.Equal(7, engine.Project<CounterState>("counter:c1").Total);
        await host.StopAsync();
    }
}
