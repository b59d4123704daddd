package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/exec"
	"github.com/velo-engine/velo/sqlfront"
)

// authorize checks the bearer token when the server has one.
func (s *Server) authorize(ctx context.Context) error {
	if s.cfg.Token == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") &&
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(v[7:])), []byte(s.cfg.Token)) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "missing or invalid bearer token (send \"authorization: Bearer <token>\")")
}

// unaryInterceptor authenticates, turns a handler panic into an Internal
// error and counts errors.
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = status.Errorf(codes.Internal, "%s panicked: %v", info.FullMethod, r)
		}
		s.metrics.countError(err)
	}()
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// streamInterceptor is unaryInterceptor for streaming calls.
func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = status.Errorf(codes.Internal, "%s panicked: %v", info.FullMethod, r)
		}
		s.metrics.countError(err)
	}()
	if err := s.authorize(ss.Context()); err != nil {
		return err
	}
	return handler(srv, ss)
}

// statusFor maps an engine error to a gRPC status carrying its text;
// errors of no known kind get code def.
func statusFor(err error, def codes.Code) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var sqlErr *sqlfront.Error
	code := def
	switch {
	case errors.Is(err, sqlfront.ErrUnknownTable):
		code = codes.NotFound
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.As(err, &sqlErr):
		code = codes.InvalidArgument
	case errors.Is(err, exec.ErrOverflow):
		code = codes.OutOfRange
	case errors.Is(err, exec.ErrConversion):
		code = codes.InvalidArgument
	case errors.Is(err, velo.ErrConsumed):
		code = codes.FailedPrecondition
	}
	return status.Error(code, err.Error())
}
