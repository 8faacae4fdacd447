using Gatehouse.Health;
using Gatehouse.Routing.Invokers;

namespace Gatehouse.Routing;

/// <summary>One target of an alias: this silo's view of its upstream's health, and the invokers around its adapter call.</summary>
public sealed record RouteTarget(string Provider, string Model, double Weight, UpstreamState State, ITargetInvoker Invoker);
