// summarize reads what people triage by out of an alert, whatever cloud it
// came from: the same fields and the same places the server's alert summary
// (internal/alert) reads, so that filter links built from it match the
// store's columns.

function lookup(v, path) {
  for (const part of path.split('.')) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    if (part in v) { v = v[part]; continue; }
    const k = Object.keys(v).find((x) => x.toLowerCase() === part.toLowerCase());
    if (k === undefined) return undefined;
    v = v[k];
  }
  return v;
}

function first(v, ...paths) {
  for (const p of paths) {
    const x = lookup(v, p);
    if (typeof x === 'string' && x) return x;
    if (Array.isArray(x) && typeof x[0] === 'string' && x[0]) return x[0];
  }
  return '';
}

function subscriptionOf(id) {
  const i = (id || '').toLowerCase().indexOf('/subscriptions/');
  return i < 0 ? '' : id.slice(i + 15).split('/')[0];
}

export function summarize(a) {
  const d = a.data || {};
  const out = { provider: '', account: '', region: '', principal: '', srcip: '', resource: '', service: '', action: '' };
  if (lookup(d, 'aws')) {
    const x = d.aws;
    Object.assign(out, {
      provider: 'aws',
      account: first(x, 'recipientAccountId', 'userIdentity.accountId', 'aws_account_id', 'accountId', 'account_id', 'account'),
      region: first(x, 'awsRegion', 'aws_region', 'region'),
      principal: first(x, 'userIdentity.arn', 'userIdentity.userName', 'userIdentity.principalId', 'resource.accessKeyDetails.userName', 'requester'),
      srcip: first(x, 'sourceIPAddress', 'srcaddr', 'httpRequest.clientIp', 'client_ip', 'remote_ip', 'source_ip_address',
        'service.action.awsApiCallAction.remoteIpDetails.ipAddressV4'),
      service: first(x, 'eventSource', 'source'),
      action: first(x, 'eventName'),
    });
    const res = lookup(x, 'resources');
    out.resource = (Array.isArray(res) && res[0] && (res[0].ARN || res[0].arn)) || first(x, 'requestParameters.bucketName');
  } else if (lookup(d, 'gcp') || (lookup(d, 'logName') && lookup(d, 'resource'))) {
    const g = lookup(d, 'gcp') || d;
    Object.assign(out, {
      provider: 'gcp',
      account: first(g, 'resource.labels.project_id') || ((first(g, 'logName').match(/^projects\/([^/]+)/) || [])[1] || ''),
      region: first(g, 'resource.labels.location', 'resource.labels.zone', 'resource.labels.region'),
      principal: first(g, 'protoPayload.authenticationInfo.principalEmail', 'jsonPayload.actor.email'),
      srcip: first(g, 'protoPayload.requestMetadata.callerIp', 'jsonPayload.connection.src_ip'),
      service: first(g, 'protoPayload.serviceName'),
      action: first(g, 'protoPayload.methodName'),
      resource: first(g, 'protoPayload.resourceName'),
    });
  } else if (String(a.location).toLowerCase() === 'azure' || lookup(d, 'azure_tag') || lookup(d, 'ms-graph') ||
      (lookup(d, 'TenantId') && lookup(d, 'Type')) || (lookup(d, 'operationName') && subscriptionOf(first(d, 'resourceId')))) {
    const m = lookup(d, 'azure') || d;
    const rid = first(m, 'ResourceId', 'resourceId', '_ResourceId');
    Object.assign(out, {
      provider: 'azure',
      account: first(m, 'SubscriptionId', 'subscriptionId', 'TenantId', 'tenantId') || subscriptionOf(rid),
      region: first(m, 'Location', 'location', 'properties.location'),
      principal: first(m, 'Caller', 'caller', 'identity.claims.name', 'UserPrincipalName', 'userPrincipalName',
        'initiatedBy.user.userPrincipalName', 'Identity'),
      srcip: first(m, 'CallerIpAddress', 'callerIpAddress', 'IPAddress', 'ipAddress'),
      service: first(d, 'azure_tag'),
      action: first(m, 'operationName', 'OperationNameValue', 'OperationName', 'activityDisplayName'),
      resource: rid.toLowerCase(),
    });
  }
  return out;
}

export const CLOUD_LABEL = { aws: 'AWS', azure: 'Azure', gcp: 'GCP', '': 'Agent' };
