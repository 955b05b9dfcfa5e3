package record_test

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func protoMarshal(m proto.Message) ([]byte, error) { return proto.Marshal(m) }

func timestamppbNew(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
