package awsevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// conversionCase is one record and the exact event the module sends for it
// with LogInfo{LogFile: "k", Bucket: "b"} and account "111122223333". The
// expected texts were produced by running the module's reshaping steps under
// CPython 3.11 and json.dumps.
type conversionCase struct {
	name   string
	record string
	want   string
}

var conversionCases = []conversionCase{
	{name: `minimal record`,
		record: `{"eventVersion":"1.08","eventName":"ListUsers"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "eventVersion": "1.08", "eventName": "ListUsers", "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `pretty printed record`,
		record: "{\n  \"eventName\" : \"ListUsers\",\n  \"readOnly\" : true\n}\n",
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "eventName": "ListUsers", "readOnly": true, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `null members dropped through objects only`,
		record: `{"a":null,"b":{"c":null,"d":[null,{"e":null}],"f":{"g":null}},"h":1}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "b": {"d": [null, {"e": null}], "f": {}}, "h": 1, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `one-element arrays unwrapped through objects only`,
		record: `{"a":[1],"b":{"c":["x"],"d":{"e":[true]}},"f":[[1]],"g":[{"h":[2],"i":null}],"j":[1,2],"k":[]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "a": 1, "b": {"c": "x", "d": {"e": true}}, "f": [1], "g": {"h": [2], "i": null}, "j": [1, 2], "k": [], "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `one-element array of null stays null`,
		record: `{"a":[null],"b":{"c":[null]}}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "a": null, "b": {"c": null}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `sourceIPAddress IPv4 adds source_ip_address`,
		record: `{"sourceIPAddress":"10.0.0.1","eventName":"X"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "sourceIPAddress": "10.0.0.1", "eventName": "X", "source": "cloudtrail", "aws_account_id": "111122223333", "source_ip_address": "10.0.0.1"}}`},
	{name: `sourceIPAddress match is a prefix regex`,
		record: `{"sourceIPAddress":"1.2.3.4.example.com"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "sourceIPAddress": "1.2.3.4.example.com", "source": "cloudtrail", "aws_account_id": "111122223333", "source_ip_address": "1.2.3.4.example.com"}}`},
	{name: `sourceIPAddress wildcard dots`,
		record: `{"sourceIPAddress":"1.23456"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "sourceIPAddress": "1.23456", "source": "cloudtrail", "aws_account_id": "111122223333", "source_ip_address": "1.23456"}}`},
	{name: `sourceIPAddress Unicode digits`,
		record: "{\"sourceIPAddress\":\"\u0661.\u0662.\u0663.\u0664\"}",
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "sourceIPAddress": "\u0661.\u0662.\u0663.\u0664", "source": "cloudtrail", "aws_account_id": "111122223333", "source_ip_address": "\u0661.\u0662.\u0663.\u0664"}}`},
	{name: `sourceIPAddress escaped digits`,
		record: `{"sourceIPAddress":"1\u002e2.3.\u0034"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "sourceIPAddress": "1.2.3.4", "source": "cloudtrail", "aws_account_id": "111122223333", "source_ip_address": "1.2.3.4"}}`},
	{name: `sourceIPAddress IPv6 not copied`,
		record: `{"sourceIPAddress":"2001:db8::1"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "sourceIPAddress": "2001:db8::1", "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `sourceIPAddress host name not copied`,
		record: `{"sourceIPAddress":"ec2.amazonaws.com"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "sourceIPAddress": "ec2.amazonaws.com", "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `sourceIPAddress newline breaks the wildcard`,
		record: `{"sourceIPAddress":"1.2\n3.4"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "sourceIPAddress": "1.2\n3.4", "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `sourceIPAddress one-element list`,
		record: `{"sourceIPAddress":["192.168.1.1"]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "sourceIPAddress": "192.168.1.1", "source": "cloudtrail", "aws_account_id": "111122223333", "source_ip_address": "192.168.1.1"}}`},
	{name: `sourceIPAddress null is dropped`,
		record: `{"sourceIPAddress":null}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `existing source_ip_address keeps its position`,
		record: `{"source_ip_address":"old","sourceIPAddress":"10.1.2.3","x":1}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "source_ip_address": "10.1.2.3", "sourceIPAddress": "10.1.2.3", "x": 1, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `existing source_ip_address without IPv4`,
		record: `{"source_ip_address":{"a":[1]},"sourceIPAddress":"AWS Internal"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "source_ip_address": {"a": 1}, "sourceIPAddress": "AWS Internal", "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `tags string wrapped`,
		record: `{"tags":"env=prod"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "tags": {"value": "env=prod"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `tags list wrapped`,
		record: `{"tags":["a","b"]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "tags": {"value": ["a", "b"]}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `tags one-element list unwrapped then wrapped`,
		record: `{"tags":["a"]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "tags": {"value": "a"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `tags object kept`,
		record: `{"tags":{"k":[1],"n":null}}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "tags": {"k": 1}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `tags unwrapped object kept raw`,
		record: `{"tags":[{"k":[1],"n":null}]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "tags": {"k": [1], "n": null}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `requestParameters string`,
		record: `{"requestParameters":"bucket=x"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "bucket=x"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `requestParameters list repr`,
		record: `{"requestParameters":["a","b",1,2.5,true,false,null,{"k":"v","n":null},[]]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "['a', 'b', 1, 2.5, True, False, None, {'k': 'v', 'n': None}, []]"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `requestParameters number`,
		record: `{"requestParameters":42}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "42"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `requestParameters float`,
		record: `{"requestParameters":1e-7}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "1e-07"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `requestParameters bool`,
		record: `{"requestParameters":true}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "True"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `requestParameters null dropped`,
		record: `{"requestParameters":null}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `requestParameters empty list`,
		record: `{"requestParameters":[]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "[]"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `responseElements one-element list of string`,
		record: `{"responseElements":["ok"]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "responseElements": {"string": "ok"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `responseElements nested list`,
		record: `{"responseElements":[["x",1]]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "responseElements": {"string": "['x', 1]"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `additionalEventData overflowing float in str`,
		record: `{"additionalEventData":[1e400,-1e400,1e-400]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "additionalEventData": {"string": "[inf, -inf, 0.0]"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `repr quote choice`,
		record: `{"requestParameters":["it's","say \"hi\"","both ' and \"","back\\slash"]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "[\"it's\", 'say \"hi\"', 'both \\' and \"', 'back\\\\slash']"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `str of an unwrapped string is the string`,
		record: "{\"requestParameters\":[\"\\u00a0\u00e9\\u0001\\u007f\\t\\ud800\\ud83d\\ude00\\udb40\\udc01\\u00ad\\u2028\"]}",
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "\u00a0\u00e9\u0001\u007f\t\ud800\ud83d\ude00\udb40\udc01\u00ad\u2028"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `repr of non-printable characters`,
		record: "{\"requestParameters\":[\"\\u00a0\u00e9\\u0001\\u007f\\t\\ud800\\ud83d\\ude00\\udb40\\udc01\\u00ad\\u2028\\u0378\\u4e2d\",1]}",
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "['\\xa0\u00e9\\x01\\x7f\\t\\ud800\ud83d\ude00\\U000e0001\\xad\\u2028\\u0378\u4e2d', 1]"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `repr of dict keys`,
		record: `{"requestParameters":[{"k'ey":1,"a":{"b":[1e16,100.0]}},2]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"string": "[{\"k'ey\": 1, 'a': {'b': [1e+16, 100.0]}}, 2]"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `disableApiTermination true`,
		record: `{"requestParameters":{"instanceId":"i-1","disableApiTermination":true}}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"instanceId": "i-1", "disableApiTermination": {"value": true}}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `disableApiTermination false in list`,
		record: `{"requestParameters":{"disableApiTermination":[false]}}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"disableApiTermination": {"value": false}}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `disableApiTermination other types untouched`,
		record: `{"requestParameters":{"disableApiTermination":"yes","x":[1,2]}}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"disableApiTermination": "yes", "x": [1, 2]}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `disableApiTermination object untouched`,
		record: `{"requestParameters":{"disableApiTermination":{"value":true}}}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"disableApiTermination": {"value": true}}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `requestParameters unwrapped object is raw`,
		record: `{"requestParameters":[{"disableApiTermination":[true],"x":null,"y":[1]}]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"disableApiTermination": [true], "x": null, "y": [1]}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `requestParameters unwrapped object with bool`,
		record: `{"requestParameters":[{"disableApiTermination":true}]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "requestParameters": {"disableApiTermination": {"value": true}}, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `source in record keeps its position`,
		record: `{"source":"aws.ec2","a":1}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "source": "cloudtrail", "a": 1, "aws_account_id": "111122223333"}}`},
	{name: `null source in record keeps its position`,
		record: `{"source":null,"a":1}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "source": "cloudtrail", "a": 1, "aws_account_id": "111122223333"}}`},
	{name: `aws_account_id in record keeps its position`,
		record: `{"aws_account_id":"x","a":1}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "aws_account_id": "111122223333", "a": 1, "source": "cloudtrail"}}`},
	{name: `null aws_account_id in record is appended`,
		record: `{"aws_account_id":null,"a":1}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "a": 1, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `log_info in record replaces the block`,
		record: `{"a":1,"log_info":{"x":[1],"y":null}}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"x": 1}, "a": 1, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `null log_info in record keeps the block`,
		record: `{"a":1,"log_info":null}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "a": 1, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `duplicate keys keep first position last value`,
		record: `{"a":1,"b":2,"a":3}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "a": 3, "b": 2, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `duplicate key whose last value is null`,
		record: `{"a":1,"b":2,"a":null}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "b": 2, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `duplicate keys written differently`,
		record: `{"eventName":"A","event\u004eame":"B"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "eventName": "B", "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `duplicate keys in a large object`,
		record: `{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k2":20,"k10":10,"k9":90,"k2":200}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "k1": 1, "k2": 200, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 90, "k10": 10, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `duplicate keys inside arrays`,
		record: `{"a":[{"x":1,"x":2},{"y":null,"y":3}]}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "a": [{"x": 2}, {"y": 3}], "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `string escapes`,
		record: `{"s":"q\"b\\s\/n\nr\rt\tb\bf\fu\u0001\u001fdel\u007f/"}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "s": "q\"b\\s/n\nr\rt\tb\bf\fu\u0001\u001fdel\u007f/", "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `non-ASCII strings`,
		record: "{\"s\":\"caf\u00e9 \u4e2d \U0001f600\",\"t\":\"\\u00E9\\ud83d\\ude00\\ud800x\\udc00\"}",
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "s": "caf\u00e9 \u4e2d \ud83d\ude00", "t": "\u00e9\ud83d\ude00\ud800x\udc00", "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `non-ASCII keys`,
		record: "{\"cl\u00e9\":\"v\",\"\\u006b\":\"w\"}",
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "cl\u00e9": "v", "k": "w", "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `integers as written`,
		record: `{"a":0,"b":-0,"c":123456789012345678901234567890,"d":-42}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "a": 0, "b": 0, "c": 123456789012345678901234567890, "d": -42, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
	{name: `floats as Python repr`,
		record: `{"a":1.5,"b":100.0,"c":1E5,"d":1e16,"e":1e15,"f":0.1,"g":1e-7,"h":0.0001,"i":0.00001,"j":-0.0,"k":1e-400,"l":5e-324,"m":1.7976931348623157e308,"n":12345678901234567.0,"o":2.5E+10,"p":123456789.123456789,"q":1e22,"r":0e0}`,
		want:   `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "k", "s3bucket": "b"}, "a": 1.5, "b": 100.0, "c": 100000.0, "d": 1e+16, "e": 1000000000000000.0, "f": 0.1, "g": 1e-07, "h": 0.0001, "i": 1e-05, "j": -0.0, "k": 0.0, "l": 5e-324, "m": 1.7976931348623157e+308, "n": 1.2345678901234568e+16, "o": 25000000000.0, "p": 123456789.12345679, "q": 1e+22, "r": 0.0, "source": "cloudtrail", "aws_account_id": "111122223333"}}`},
}

var conversionErrors = []conversionCase{
	{name: `not an object`, record: `[1,2]`},
	{name: `string record`, record: `"x"`},
	{name: `invalid JSON`, record: `{"a":}`},
	{name: `trailing data`, record: `{"a":1} x`},
	{name: `truncated`, record: `{"a":[1,2`},
	{name: `NaN literal`, record: `{"a":NaN}`},
	{name: `invalid UTF-8`, record: "{\"a\":\"\xff\"}"},
	{name: `encoded surrogate`, record: "{\"a\":\"\xed\xa0\x80\"}"},
	{name: `control character`, record: "{\"a\":\"\x01\"}"},
	{name: `raw newline in string`, record: "{\"a\":\"x\ny\"}"},
	{name: `short unicode escape`, record: `{"a":"\u12"}`},
	{name: `leading zero`, record: `{"a":01}`},
	{name: `bad escape`, record: `{"a":"\q"}`},
	{name: `overflowing float`, record: `{"a":1e400}`},
	{name: `non-string sourceIPAddress`, record: `{"sourceIPAddress":1}`},
	{name: `sourceIPAddress list of two`, record: `{"sourceIPAddress":["1.2.3.4","5.6.7.8"]}`},
	{name: `sourceIPAddress one-element null`, record: `{"sourceIPAddress":[null]}`},
	{name: `empty input`, record: ``},
}

func TestAppendCloudTrail(t *testing.T) {
	info := LogInfo{LogFile: "k", Bucket: "b"}
	var enc Encoder
	for _, tc := range conversionCases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("prefix:")
			got, err := enc.AppendCloudTrail(prefix, []byte(tc.record), info, "111122223333")
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("dst prefix lost: %q", got)
			}
			if got := string(got[len(prefix):]); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
			// The pooled package function must agree with a private Encoder.
			pooled, err := AppendCloudTrail(nil, []byte(tc.record), info, "111122223333")
			if err != nil || string(pooled) != tc.want {
				t.Errorf("AppendCloudTrail differs: %s (%v)", pooled, err)
			}
		})
	}
}

func TestAppendCloudTrailErrors(t *testing.T) {
	var enc Encoder
	for _, tc := range conversionErrors {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := enc.AppendCloudTrail(dst, []byte(tc.record), LogInfo{}, "1")
			if err == nil {
				t.Fatalf("no error, got %s", got)
			}
			if string(got) != "keep" {
				t.Fatalf("dst changed on error: %q", got)
			}
			if !strings.HasPrefix(err.Error(), "awsevent: ") {
				t.Fatalf("error does not name the package: %v", err)
			}
		})
	}
}

func TestAppendCloudTrailLimits(t *testing.T) {
	deep := strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth)
	tooDeep := strings.Repeat(`{"a":[`, maxDepth/2+1) + "1" + strings.Repeat("]}", maxDepth/2+1)
	longInt := `{"n":` + strings.Repeat("7", maxIntDigits) + `}`
	tooLongInt := `{"n":-` + strings.Repeat("7", maxIntDigits+1) + `}`
	longFloat := `{"n":0.` + strings.Repeat("7", maxIntDigits+1) + `}`
	for _, tc := range []struct {
		name   string
		record string
		err    error
	}{
		{"nesting at the limit", deep, nil},
		{"nesting past the limit", tooDeep, errDepth},
		{"integer at the digit limit", longInt, nil},
		{"integer past the digit limit", tooLongInt, errIntLen},
		{"long float is fine", longFloat, nil},
		{"overflowing float", `{"x":[1e999]}`, errNonFinite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendCloudTrail(nil, []byte(tc.record), LogInfo{}, "1")
			if !errors.Is(err, tc.err) {
				t.Fatalf("got error %v, want %v", err, tc.err)
			}
			if err == nil && !json.Valid(got) {
				t.Fatalf("invalid JSON: %.200s", got)
			}
		})
	}
}

func TestLogInfoEscaping(t *testing.T) {
	info := LogInfo{AccountAlias: "al\u00e9", LogFile: "AWSLogs/o-1/\u00e9 \"q\"\\/\u2028\U0001f600\x01", Bucket: "bkt"}
	got, err := AppendCloudTrail(nil, []byte(`{"a":1}`), info, `12"3`)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "al\u00e9", "log_file": "AWSLogs/o-1/\u00e9 \"q\"\\/\u2028\ud83d\ude00\u0001", "s3bucket": "bkt"}, "a": 1, "source": "cloudtrail", "aws_account_id": "12\"3"}}`
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestAccountFromKey(t *testing.T) {
	for _, tc := range []struct{ name, key, want string }{
		{"file name", "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1145Z_abc.json.gz", "123456789012"},
		{"bare file name", "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json", "218007301253"},
		{"corpus path", "invictus-ir-aws-dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1145Z_x.json", "218007301253"},
		{"prefix only", "AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2024/01/01/digest.json.gz", "111122223333"},
		{"prefix at start", "111122223333/CloudTrail/x.json", "111122223333"},
		{"short account", "AWSLogs/12345/CloudTrail/x.json", ""},
		{"thirteen digits", "AWSLogs/1234567890123/CloudTrail/x.json", ""},
		{"no account", "aws-cloudtrail-processing-library/SerializerTestFile.json", ""},
		{"letters in account", "12345678901x_CloudTrail_us-east-1_x.json", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AccountFromKey(tc.key); got != tc.want {
				t.Errorf("AccountFromKey(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func TestRecipientAccountID(t *testing.T) {
	for _, tc := range []struct{ name, record, want string }{
		{"present", `{"eventName":"x","recipientAccountId":"123456789012"}`, "123456789012"},
		{"escaped", `{"recipientAccountId":"12\u0033"}`, "123"},
		{"duplicate takes last", `{"recipientAccountId":"1","recipientAccountId":"2"}`, "2"},
		{"null", `{"recipientAccountId":null}`, ""},
		{"number", `{"recipientAccountId":123}`, ""},
		{"nested only", `{"userIdentity":{"recipientAccountId":"1"}}`, ""},
		{"not an object", `["recipientAccountId"]`, ""},
		{"invalid", `{"recipientAccountId":"1"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RecipientAccountID([]byte(tc.record)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
