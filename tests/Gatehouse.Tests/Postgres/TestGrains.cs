using System.Collections.Concurrent;

namespace Gatehouse.Tests.Postgres;

/// <summary>A grain whose state goes through the ADO.NET grain storage under test.</summary>
public interface INoteGrain : IGrainWithStringKey
{
    Task<NoteState> Read();

    Task Write(string text);

    Task Clear();

    Task Deactivate();
}

[GenerateSerializer]
public sealed class NoteState
{
    [Id(0)]
    public string? Text { get; set; }

    [Id(1)]
    public int Writes { get; set; }
}

public sealed class NoteGrain([PersistentState("note", OrleansOnPostgres.StorageName)] IPersistentState<NoteState> note) : Grain, INoteGrain
{
    public Task<NoteState> Read() => Task.FromResult(note.State);

    public async Task Write(string text)
    {
        note.State.Text = text;
        note.State.Writes++;
        await note.WriteStateAsync();
    }

    public Task Clear() => note.ClearStateAsync();

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>A grain with a reminder, which counts the ticks it receives in <see cref="Ticks"/>.</summary>
public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task Start(string name, TimeSpan dueTime, TimeSpan period);

    Task Stop(string name);
}

public sealed class ReminderProbeGrain : Grain, IReminderProbeGrain, IRemindable
{
    /// <summary>Ticks received, by grain key and reminder name.</summary>
    public static ConcurrentDictionary<string, int> Ticks { get; } = new();

    public Task Start(string name, TimeSpan dueTime, TimeSpan period) => this.RegisterOrUpdateReminder(name, dueTime, period);

    public async Task Stop(string name)
    {
        var reminder = await this.GetReminder(name) ?? throw new InvalidOperationException($"No reminder {name}.");
        await this.UnregisterReminder(reminder);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Ticks.AddOrUpdate($"{this.GetPrimaryKeyString()}/{reminderName}", 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}
