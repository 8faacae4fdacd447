namespace Gatehouse;

/// <summary>Event ids of every Gatehouse log message, in one place so they stay unique.</summary>
public static class GatehouseEventIds
{
    public const int AttemptFailed = 1000;
    public const int AllTargetsFailed = 1001;
    public const int CircuitOpenedLocally = 1002;
    public const int ProbeResult = 1003;
    public const int ProbeRequestFailed = 1004;
    public const int AllCircuitsOpen = 1005;
    public const int HealthFlushFailed = 1100;
    public const int QuotaAuthorityFailed = 1110;
    public const int QuotaSettleFailed = 1111;
    public const int QuotaRecordUnreadable = 1112;
    public const int QuotaRecordWriteFailed = 1113;
    public const int QuotaRecordFenced = 1114;
    public const int QuotaSlotsFailed = 1118;
    public const int QuotaReturnFailed = 1119;
    public const int ConfigurationInvalid = 1200;
    public const int EmbeddedDefaults = 1201;
    public const int UnhandledRequestError = 1300;
    public const int UsageBatchFailed = 1400;
    public const int UsageRecordsDropped = 1401;
    public const int UsageRecordsLostAtStop = 1402;
    public const int AppSnapshotLoadFailed = 1410;
    public const int AppSnapshotLoaded = 1411;
    public const int AppsSeeded = 1412;
    public const int BudgetAuthorityFailed = 1420;
    public const int BudgetSettleFailed = 1421;
    public const int ResponsesSwept = 1430;
    public const int ResponsesSweepFailed = 1431;
    public const int ResponseNotStored = 1432;
    public const int EmbeddingsNotStored = 1440;
    public const int UpstreamTimedOut = 3101;
    public const int UpstreamFailed = 3102;
    public const int UpstreamUnreachable = 3103;
    public const int UpstreamResponseUnreadable = 3104;
    public const int UpstreamResponseTooLarge = 3105;
    public const int UpstreamConnectionBroken = 3106;
    public const int UpstreamAnswerIncomplete = 3107;
    public const int UpstreamAnswerFiltered = 3108;
}
