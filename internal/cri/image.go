package cri

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/image"
)

// criImage shows a stored image as the CRI does: its ID as sha256:<hex>, its names as repo
// tags, its repo digests, size, and the user it runs as (a numeric one as Uid).
func criImage(img *image.Image) *runtimeapi.Image {
	out := &runtimeapi.Image{Id: "sha256:" + img.ID, RepoTags: img.Names, RepoDigests: img.RepoDigests(), Size: uint64(max(img.Size, 0)),
		Spec: &runtimeapi.ImageSpec{Image: "sha256:" + img.ID}}
	if out.RepoTags == nil {
		out.RepoTags = []string{}
	}
	user, _, _ := strings.Cut(img.Config.Config.User, ":")
	if n, err := strconv.ParseInt(user, 10, 64); err == nil {
		out.Uid = &runtimeapi.Int64Value{Value: n}
	} else {
		out.Username = user
	}
	return out
}

// lookupImage finds an image by name, ID or sha256:ID; nil when there is none.
func lookupImage(rt *engine.Runtime, ref string) (*image.Image, error) {
	ref = strings.TrimPrefix(ref, "sha256:")
	if ref == "" {
		return nil, invalid("an image is needed")
	}
	img, err := rt.ImageLookup(ref)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return nil, nil
	}
	return img, err
}

// ListImages lists the stored images (the filter's image alone, when it names one).
func (s *Server) ListImages(ctx context.Context, req *runtimeapi.ListImagesRequest) (*runtimeapi.ListImagesResponse, error) {
	resp := &runtimeapi.ListImagesResponse{}
	err := s.withRuntime(func(rt *engine.Runtime) error {
		if want := req.GetFilter().GetImage().GetImage(); want != "" {
			img, err := lookupImage(rt, want)
			if img != nil {
				resp.Images = append(resp.Images, criImage(img))
			}
			return err
		}
		imgs, err := rt.ImageList()
		if err != nil {
			return err
		}
		for _, img := range imgs {
			resp.Images = append(resp.Images, criImage(img))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// ImageStatus reports an image; one that is not there is a response without an image, not an
// error (the CRI asks for that).
func (s *Server) ImageStatus(ctx context.Context, req *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	resp := &runtimeapi.ImageStatusResponse{}
	err := s.withRuntime(func(rt *engine.Runtime) error {
		img, err := lookupImage(rt, req.GetImage().GetImage())
		if err != nil || img == nil {
			return err
		}
		resp.Image = criImage(img)
		if req.Verbose {
			b, _ := json.Marshal(map[string]any{"created": img.Created.Format(time.RFC3339Nano), "layers": img.Layers,
				"config": img.Config.Config})
			resp.Info = map[string]string{"info": string(b)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// PullImage pulls an image from its registry, with the credentials the request carries, and
// returns its ID.
func (s *Server) PullImage(ctx context.Context, req *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	given := req.GetImage().GetImage()
	if given == "" {
		return nil, invalid("an image to pull is needed")
	}
	full, err := image.NormalizeName(given)
	if err != nil {
		return nil, grpcError(err)
	}
	ref, err := image.ParseReference(full)
	if err != nil {
		return nil, grpcError(err)
	}
	o := image.PullOptions{TLSVerify: image.LoopbackPlainHTTP(ref.Domain)}
	if a := req.GetAuth(); a != nil {
		user, pass := a.Username, a.Password
		if a.Auth != "" {
			dec, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return nil, invalid("auth: not base64: %v", err)
			}
			u, p, ok := strings.Cut(string(dec), ":")
			if !ok {
				return nil, invalid("auth: not user:password")
			}
			user, pass = u, p
		}
		if a.IdentityToken != "" || a.RegistryToken != "" {
			return nil, invalid("auth: identity and registry tokens are not supported; give a user and password")
		}
		if user != "" {
			o.Creds = user + ":" + pass
		}
	}
	var id string
	err = s.withRuntime(func(rt *engine.Runtime) error {
		img, err := rt.ImagePull(ctx, full, o)
		if err != nil {
			return fmt.Errorf("pulling %s: %w", given, err)
		}
		id = "sha256:" + img.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &runtimeapi.PullImageResponse{ImageRef: id}, nil
}

// RemoveImage removes an image, every name of it, whichever name or its ID the request gives
// (the CRI's rule, unlike `pea rmi`, which untags one name of several); one that is not there,
// or that a call alongside removed first, is not an error; one a container uses is.
func (s *Server) RemoveImage(ctx context.Context, req *runtimeapi.RemoveImageRequest) (*runtimeapi.RemoveImageResponse, error) {
	err := s.withRuntime(func(rt *engine.Runtime) error {
		img, err := lookupImage(rt, req.GetImage().GetImage())
		if err != nil || img == nil {
			return err
		}
		_, _, err = rt.ImageRemoveWith(img.ID, engine.ImageRemoveOptions{Whole: true})
		if errdefs.Is(err, errdefs.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &runtimeapi.RemoveImageResponse{}, nil
}

// ImageFsInfo reports the bytes the images' layers take (each layer once).
func (s *Server) ImageFsInfo(ctx context.Context, req *runtimeapi.ImageFsInfoRequest) (*runtimeapi.ImageFsInfoResponse, error) {
	resp := &runtimeapi.ImageFsInfoResponse{}
	err := s.withRuntime(func(rt *engine.Runtime) error {
		imgs, err := rt.ImageList()
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		var used uint64
		for _, img := range imgs {
			for i, l := range img.Layers {
				if !seen[l] && i < len(img.LayerSizes) {
					seen[l] = true
					used += uint64(max(img.LayerSizes[i], 0))
				}
			}
		}
		resp.ImageFilesystems = []*runtimeapi.FilesystemUsage{{Timestamp: time.Now().UnixNano(),
			FsId:      &runtimeapi.FilesystemIdentifier{Mountpoint: rt.Options().Root},
			UsedBytes: &runtimeapi.UInt64Value{Value: used}, InodesUsed: &runtimeapi.UInt64Value{}}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
